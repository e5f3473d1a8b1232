"""`UnchainedSpawner`: a notebook server as an HTCondor job, reached through a tunnel.

This module only orchestrates: each concern has a module of its own (hub/README.md,
"How it works"). It builds on batchspawner's `CondorSpawner` for the spawner's
place in JupyterHub and nothing else.
"""

import asyncio
import contextlib
import grp
import html
import os
import pwd
import time
import urllib.parse

import batchspawner
from jupyterhub.apihandlers import default_handlers
from tornado import web
from traitlets import Integer, Unicode

from . import condor, contract, jobstate, metrics, placement, submit, tickets, tunnel
from .poller import JobPoller
from .settings import UnchainedSettings

# Importing batchspawner appends its report API, which sets any attribute a
# job posts, to JupyterHub's handlers. We need no report API: take it out.
default_handlers[:] = [h for h in default_handlers if h[0] != r"/api/batchspawner"]


class UnchainedSpawner(UnchainedSettings, batchspawner.CondorSpawner):
    """Run each notebook server as an HTCondor job on a worker that accepts
    no inbound connection, and reach it through `condor_ssh_to_job`."""

    # Not settings: the state of this server.
    cluster = Integer(0)
    job_started = Integer(0)
    environment_id = Unicode("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # The shared poller also removes orphaned jobs: it runs from the first spawner on.
        self.poller.start()
        tickets.watch(self.poller, self.authenticator)
        self._tunnel = None
        self._events = []
        self._new_event = asyncio.Event()
        self._last_end = ""

    # -- the pieces this spawner composes --------------------------------

    @property
    def poller(self):
        return JobPoller.for_hub(
            self.hub_id, log=self.log, interval=self.status_interval,
            fast_interval=self.status_fast_interval, jitter=self.poll_jitter,
            bin_dir=self.condor_bin_dir, orphan_grace=self.orphan_grace, user_condor=self._condor,
            lost_after=self.worker_lost_after)

    def _condor(self, user=None):
        return condor.UserCondor(user or self.user.name, bin_dir=self.condor_bin_dir, sudo=self.sudo)

    @property
    def server_files_dir(self):
        """This server's files in the home (`contract.server_files_dir`)."""
        try:
            return contract.server_files_dir(self.files_dir, self.name)
        except ValueError as e:
            raise web.HTTPError(400, str(e)) from None

    # -- state --------------------------------------------------------------

    def get_state(self):
        state = super().get_state()
        if self.cluster:
            state.update(cluster=self.cluster, job_started=self.job_started, environment_id=self.environment_id)
        if self._last_end:
            # JupyterHub makes a new spawner for the next start: the message goes with the state.
            state["last_end"] = self._last_end
        return state

    def load_state(self, state):
        super().load_state(state)
        self.cluster = int(state.get("cluster", 0))
        self.job_started = int(state.get("job_started", 0))
        env_id = state.get("environment_id", "")
        self.environment_id = env_id if self._choices and env_id in self._choices.environments else ""
        self._last_end = state.get("last_end", "")

    def clear_state(self):
        super().clear_state()
        self.cluster = 0
        self.job_started = 0
        self.environment_id = ""

    # -- progress -----------------------------------------------------------

    def _emit(self, progress, message, detail=""):
        """A step on the spawn page; `detail` (HTCondor's own words, a job's
        output) goes under it, folded."""
        self.log.info("%s: %s%s", self._log_name, message, f" ({detail})" if detail else "")
        event = {"progress": progress, "message": message}
        if detail:
            event["html_message"] = (f"{html.escape(message)}<details><summary>Details</summary>"
                                     f"<pre>{html.escape(detail)}</pre></details>")
        self._events.append(event)
        self._new_event.set()

    async def progress(self):
        shown = 0
        while True:
            while shown < len(self._events):
                yield self._events[shown]
                shown += 1
            self._new_event.clear()
            await self._new_event.wait()

    # -- start ---------------------------------------------------------------

    async def start(self):
        self._events = []
        timer = metrics.SpawnTimer()
        request = self._request()
        try:
            account = pwd.getpwnam(self.user.name)
            home = account.pw_dir
        except KeyError:
            raise web.HTTPError(500, f"{self.user.name} has no account on the hub machine; "
                                     "ask the site admin") from None
        if self._last_end:
            self._emit(1, self._last_end)
            self._last_end = ""
        user_condor = self._condor()
        self._emit(5, "Preparing your files and HTCondor credentials")
        files_dir = self.server_files_dir
        description = submit.build(request, hub_id=self.hub_id, home=home, files_dir=files_dir,
                                   log_dir=self.job_log_dir, lost_workers=self.poller.lost_workers(),
                                   server_args=self.get_args(), additions=self._additions,
                                   user=self.user.name, unix_groups=unix_groups(account),
                                   any_on_demand=self._choices.any_on_demand)
        poller = self.poller
        try:
            await asyncio.gather(
                user_condor.prepare(os.path.join(home, files_dir), os.path.join(home, self.job_log_dir)),
                user_condor.fetch_token())
            self.environment_id = request.environment.id
            self.cluster = await user_condor.submit(description)
        except condor.TicketError as e:
            raise web.HTTPError(403, str(e)) from None
        except condor.CondorError as e:
            if "sudo:" in str(e):
                raise web.HTTPError(403, f"The hub may not start jobs for {self.user.name} ({e}). "
                                         "Ask the site admin to add you to the hub's users.") from None
            raise web.HTTPError(500, f"Your job could not be submitted: {e}") from None
        poller.claim(self.cluster)
        timer.phase_done("submit")
        submitted_serial = poller.queries
        self._emit(20, f"Submitted job {self.cluster}.0 for {request.describe()}")
        try:
            while True:
                host, site = await self._wait_running(submitted_serial, request)
                running_at = time.monotonic()
                at = f" at {site}" if site else ""
                self._emit(60, f"Job {self.cluster}.0 is running on {host}{at}; connecting to it")
                try:
                    await self._connect(contract.settings_for_job(self.get_env()))
                    break
                except _JobRestarted:
                    self._emit(40, f"Job {self.cluster}.0 stopped on {host} before its server came up; "
                                   "HTCondor starts it again (and holds it if that keeps failing)")
            timer.phase_done("queue", at=running_at)
            timer.phase_done("job_start", at=self._tunnel.server_started_at)
            timer.phase_done("connect")
            self._emit(90, "Connected; waiting for JupyterLab to answer")
            await self._wait_answering()
            timer.phase_done("ready")
            timer.done()
        except asyncio.CancelledError:
            # Stop pressed while starting: JupyterHub stops the server a second
            # later and fails if the start has not ended by then. The poller
            # takes the job out meanwhile.
            await self._discard_job(wait=False)
            raise
        except BaseException:
            await self._discard_job()
            raise
        return await self.get_url()

    async def _wait_answering(self):
        """Return once the server answers, so that JupyterHub's own (slower) check passes at once."""
        deadline = time.monotonic() + self.http_timeout
        checked = time.monotonic()
        while not await self._tunnel.answers():
            if time.monotonic() > deadline:
                return  # JupyterHub's own check reports the timeout
            if time.monotonic() - checked > 2:
                checked = time.monotonic()
                await self.poller.next_update(timeout=2)
                await self._starting_verdict(self.poller.status(self.cluster))
            await asyncio.sleep(0.05)

    async def _wait_running(self, submitted_serial, request):
        """The host the job runs on, and its site's name ("" if unknown), once it runs."""
        poller = self.poller
        idle_since = None
        explained = False
        while True:
            await poller.next_update(timeout=10)
            ad = poller.status(self.cluster)
            if ad is None and poller.answered_serial <= submitted_serial:
                continue  # not yet in an answer that could list it
            state = await self._starting_verdict(ad)
            if state == jobstate.STARTED:
                self.job_started = jobstate.start_date(ad)
                return jobstate.host(ad), placement.site_name(ad.get(submit.SITE_OF_RUN), self._choices.sites)
            if state == jobstate.QUEUED:
                if idle_since is None:
                    idle_since = time.monotonic()
                    self._emit(30, placement.waiting_message(self.cluster, request.sites, self._choices.sites))
                elif placement.on_demand_only(request.sites, self._choices.sites):
                    # HTCondor's analysis would say no machine matches: the drone is not there yet.
                    waited = time.monotonic() - idle_since
                    if not explained and waited > self.drone_wait_warning:
                        explained = True
                        self._emit(35, placement.slow_drone_message(self.cluster, request.sites,
                                                                    self._choices.sites, waited))
                elif not explained and time.monotonic() - idle_since > self.idle_explain_after:
                    explained = True
                    why = await poller.why_idle(self.cluster)
                    if why is not None:
                        condition, htcondor_says = why
                        self._emit(35, jobstate.idle_message(self.cluster, condition, request.asked()),
                                   f"HTCondor: {htcondor_says}")

    async def _starting_verdict(self, ad):
        """The job's state while its server starts; the user's error if it cannot."""
        verdict = jobstate.while_starting(ad, self.cluster)
        if verdict.state == jobstate.GONE:
            raise web.HTTPError(500, await self._gone_message(while_starting=True))
        if verdict.state == jobstate.FAILED:
            self._log_hold_reason(ad)
            raise web.HTTPError(500, verdict.message)
        return verdict.state

    def _log_hold_reason(self, ad):
        """HTCondor's own words for a hold, which the user reads in theirs."""
        if ad and ad.get("HoldReason"):
            self.log.info("%s: HTCondor held job %s: %s (code %s)", self._log_name, ad.get("ClusterId"),
                          ad["HoldReason"], ad.get("HoldReasonCode"))

    async def _gone_message(self, while_starting):
        history = await condor.job_history(self.cluster, bin_dir=self.condor_bin_dir)
        output = await self._error_output()
        message = jobstate.gone_message(self.cluster, history, log_dir=self.job_log_dir,
                                        while_starting=while_starting, error_output=output)
        if while_starting and output.strip():
            lines = output.strip().splitlines()
            self._emit(95, f"The end of job {self.cluster}.0's error output:", "\n".join(lines[-20:]))
        return message

    async def _error_output(self):
        """The end of the job's error output ('' if it cannot be read)."""
        home = pwd.getpwnam(self.user.name).pw_dir
        path = os.path.join(home, self.job_log_dir, f"job-{int(self.cluster)}.err")
        try:
            return await self._condor().error_output(path)
        except (condor.CondorError, OSError) as e:
            self.log.warning("%s: could not read %s: %s", self._log_name, path, e)
            return ""

    async def _connect(self, settings):
        """Open the server's tunnel (with its settings, on the first connect),
        watching the job meanwhile: held or gone ends the spawn, idle again
        means HTCondor restarts it."""
        self._tunnel = self._make_tunnel(settings)
        opening = asyncio.ensure_future(self._tunnel.open())
        try:
            while not opening.done():
                await asyncio.wait({opening}, timeout=2)
                if not opening.done():
                    await self.poller.next_update(timeout=2)
                    if await self._starting_verdict(self.poller.status(self.cluster)) == jobstate.QUEUED:
                        raise _JobRestarted()
            opening.result()
        except tunnel.TunnelError as e:
            await self._close_tunnel()
            if await self._starting_verdict(self.poller.status(self.cluster)) == jobstate.QUEUED:
                raise _JobRestarted() from None
            raise web.HTTPError(500, f"Could not reach job {self.cluster}.0: {e}") from None
        except BaseException:
            opening.cancel()
            await self._close_tunnel()
            raise

    def _make_tunnel(self, settings):
        user = pwd.getpwnam(self.user.name)
        tunnel.prepare_endpoint_dir(self.tunnel_dir, self.user.name, user.pw_uid)
        api = urllib.parse.urlsplit(self.hub.api_url)

        async def job_running():
            await self.poller.next_update(timeout=5)
            return jobstate.same_run(self.poller.status(self.cluster), self.job_started)

        def worker_lost():
            # poll() ends the server; JupyterHub learns it from poll_and_notify.
            asyncio.ensure_future(self.poll_and_notify())

        return tunnel.Tunnel(
            self._condor(), self.cluster, launcher=self._choices.environments[self.environment_id].launcher,
            endpoint=tunnel.endpoint(self.tunnel_dir, self.user.name, self.cluster), uid=user.pw_uid, settings=settings,
            hub_api=f"{api.hostname}:{api.port or 80}", log=self.log, job_running=job_running,
            probe_path=f"{self._base_url()}api", python=self.tunnel_python, connect_timeout=self.connect_timeout,
            ready_timeout=self.http_timeout, probe_interval=self.tunnel_probe_interval,
            lost_after=self.worker_lost_after, on_lost=worker_lost)

    def _base_url(self):
        return self.server.base_url if self.server else "/"

    @property
    def server(self):
        server = super().server
        if server is not None and server.proto == "http+unix" and not server.connect_url:
            # JupyterHub would route to proto://ip:port, for a socket "PATH:80".
            server.connect_url = f"{server.proto}://{server.ip}{server.base_url}"
        return server

    @server.setter
    def server(self, server):
        batchspawner.CondorSpawner.server.fset(self, server)

    async def get_url(self):
        return tunnel.url(tunnel.endpoint(self.tunnel_dir, self.user.name, self.cluster), self._base_url())

    # -- poll ----------------------------------------------------------------

    async def poll(self):
        if not self.cluster:
            return 0
        poller = self.poller
        poller.claim(self.cluster)
        if self._tunnel is None:
            # The hub has restarted: reconnect before JupyterHub checks the server.
            await poller.next_update(timeout=30)
        ad = poller.status(self.cluster)
        if ad is None:
            if not poller.has_answered():
                return None  # the schedd has not answered yet: no news is not bad news
            return await self._server_ended(await self._gone_message(while_starting=False))
        if ad.get("JobStatus") == jobstate.RUNNING and not self.job_started:
            self.job_started = jobstate.start_date(ad)
        verdict = jobstate.while_serving(ad, self.cluster, started=self.job_started,
                                         files_dir=self.server_files_dir)
        if verdict.state == jobstate.RUNTIME_OVER:
            await self._stop_job(ask=True, wait=True)
            await self._server_ended(verdict.message)
            return 0
        if verdict.state == jobstate.ENDED:
            self._log_hold_reason(ad)
            return await self._server_ended(verdict.message)
        if (self._tunnel is not None and self._tunnel.lost) or \
                jobstate.disconnected_for(ad) > self.worker_lost_after:
            host = jobstate.host(ad)
            message = jobstate.worker_lost_message(self.cluster, host, self.worker_lost_after,
                                                   files_dir=self.server_files_dir)
            self.poller.retire(self.cluster, self.user.name, lost=True)
            # The pool would match new jobs to its slots again and again until
            # the collector forgets them: the hub's jobs keep off it meanwhile.
            self.poller.worker_lost(host, self.lost_worker_avoided_for)
            return await self._server_ended(message)
        if (self._tunnel is None or not self._tunnel.kept) and ad.get("JobStatus") == jobstate.RUNNING \
                and self.environment_id:
            # The hub has restarted, or the job was suspended and runs again.
            await self._close_tunnel()
            self._tunnel = self._make_tunnel(settings=None)
            try:
                await self._tunnel.open()
            except (tunnel.TunnelError, condor.CondorError, OSError) as e:
                self.log.error("%s: could not re-open the tunnel: %s", self._log_name, e)
                await self._close_tunnel()
        return None

    async def _server_ended(self, message):
        """Remember why the server ended (the next spawn page shows it) and clean up."""
        self._last_end = message
        self.log.warning("%s: %s", self._log_name, message)
        await self._discard_job()
        return 1

    # -- stop ------------------------------------------------------------------

    async def stop(self, now=False):
        if self.cluster:
            ad = self.poller.status(self.cluster)
            running = ad is not None and ad.get("JobStatus") == jobstate.RUNNING
            await self._stop_job(ask=running and not now, wait=not now)
        await self._close_tunnel()
        self.clear_state()

    async def _stop_job(self, *, ask, wait):
        """Stop the job so that its files come back: ask its server to stop
        (so the job ends by itself), then let the poller take it out of the
        queue (`jobstate.retire_step`), waiting for that if `wait`."""
        # From now on the server has no job: a poll meanwhile (JupyterHub's, or
        # the tunnel's on a lost worker) finds it ended, and changes nothing.
        cluster, self.cluster = self.cluster, 0
        asked = ask and await self._ask_server_to_stop(cluster)
        await self._close_tunnel()
        gone = self.poller.retire(cluster, self.user.name, grace=self.stop_grace if asked else 0.0)
        if wait and not await self.poller.wait_retired(gone, self.stop_timeout):
            self.log.warning("%s: job %s has not left the queue %s s after stopping; the hub goes on "
                             "taking it out", self._log_name, cluster, self.stop_timeout)

    async def _ask_server_to_stop(self, cluster):
        """Ask the server of job `cluster` to stop, through its tunnel or else
        a session of its own; whether it said it would."""
        if self._tunnel is not None and await self._tunnel.stop_server(timeout=15):
            return True
        await self._close_tunnel()
        env = self._choices.environments.get(self.environment_id) if self._choices else None
        if env is None:
            return False
        try:
            await self._condor().ssh_to_job(cluster, env.launcher, contract.STOP, timeout=15)
            return True
        except condor.CondorError as e:
            self.log.warning("%s: could not ask job %s to stop (%s); HTCondor will stop it and copy its files back",
                             self._log_name, cluster, e)
            return False

    async def _close_tunnel(self):
        if self._tunnel:
            await self._tunnel.close()
            self._tunnel = None

    async def _discard_job(self, wait=True):
        """Take the job of a server that has ended or never came up out of the queue."""
        await self._close_tunnel()
        if self.cluster:
            await self._stop_job(ask=False, wait=wait)


class _JobRestarted(Exception):
    """The job went idle before its server came up: HTCondor starts it again."""


def unix_groups(account):
    """The names of the Unix groups of a `pwd` entry, its primary group included."""
    names = set()
    for gid in os.getgrouplist(account.pw_name, account.pw_gid):
        with contextlib.suppress(KeyError):
            names.add(grp.getgrgid(gid).gr_name)
    return names
