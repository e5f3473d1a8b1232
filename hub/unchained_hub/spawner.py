"""`UnchainedSpawner`: a notebook server as an HTCondor job, reached through a tunnel.

It builds on batchspawner's `CondorSpawner` for what is sound there (the
spawner's place in JupyterHub, the user's environment basics, a start
timeout fit for batch systems) and replaces the rest:

- submission from a description built of checked values only (`submit.py`),
  as the user, through sudo, from argv lists (`condor.py`);
- the user's choices checked against the admin's limits (`options.py`);
- no secret in the job's ad: settings travel through `condor_ssh_to_job`
  (`singleuser.py`); batchspawner's report API is not installed;
- one schedd query per interval for all servers (`poller.py`);
- a supervised tunnel per server that survives loss and hub restarts
  (`tunnel.py`).

batchspawner's template settings (`batch_script`, `exec_prefix`, `req_*`, ...)
have no effect here; a configuration that sets them is refused at start.
"""

import asyncio
import json
import os
import pwd
import socket
import sys
import time

import batchspawner
from jupyterhub.apihandlers import default_handlers
from tornado import web
from traitlets import Dict, Float, Integer, Unicode, default

from . import condor, options, singleuser, submit
from .poller import JobPoller
from .tunnel import Tunnel, free_port

# Importing batchspawner appends its report API, which sets any attribute a
# job posts, to JupyterHub's handlers. We need no report API: take it out.
default_handlers[:] = [h for h in default_handlers if h[0] != r"/api/batchspawner"]

REFUSED_BATCHSPAWNER_SETTINGS = (
    "batch_script", "batch_submit_cmd", "batch_query_cmd", "batch_cancel_cmd", "exec_prefix",
    "req_queue", "req_host", "req_memory", "req_nprocs", "req_ngpus", "req_runtime",
    "req_partition", "req_account", "req_options", "req_prologue", "req_epilogue",
)
JOB_STATUS = {1: "idle", 2: "running", 3: "removed", 4: "completed", 5: "held",
              6: "transferring output", 7: "suspended"}
# Settings the job needs from the hub; the job's own environment provides the rest.
NOT_SENT = {"HOME", "USER", "SHELL", "PATH", "LANG"}


class UnchainedSpawner(batchspawner.CondorSpawner):
    """Run each notebook server as an HTCondor job on a worker that accepts
    no inbound connection, and reach it through `condor_ssh_to_job`."""

    hub_id = Unicode(
        help="""Marks this hub's jobs (job attribute UnchainedHub). Letters, digits and
        `_.:@+=,-` only. Default: this machine's fully qualified name.""",
    ).tag(config=True)

    @default("hub_id")
    def _default_hub_id(self):
        return socket.getfqdn()

    environments = Dict(
        help="""The notebook environments users may choose, by id. Each is a dict with
        `display_name`, `launcher` (absolute path of `unchained-singleuser` on the workers),
        `command` (list: the single-user server command, e.g. the absolute path of
        `jupyterhub-singleuser`), optionally `environment` (dict of variables for the
        job), `preload` (list of Python modules the server's process imports while the
        hub connects, e.g. `jupyter_server.serverapp`; `command` must then be a Python
        script), `lmod_module` (e.g. `jupyter/2026.11`: the job loads it in a login
        shell and runs the server in its environment) and `container_image` (the path of
        the job image on the workers, an Apptainer sandbox directory or SIF file: the job
        runs in HTCondor's container universe inside it). Paths and values may contain only
        letters, digits and `_./:@+=,-`.""",
    ).tag(config=True)

    default_environment = Unicode(
        "", help="Id of the environment chosen when the user names none (default: the first)."
    ).tag(config=True)

    resource_limits = Dict(
        options.DEFAULT_LIMITS,
        help="""Per field (`cpus`, `memory_gb`, `disk_gb`, `gpus`, `runtime_hours`) a dict
        with `min`, `max` and `default`. Enforced on the hub for the form and the REST API.""",
    ).tag(config=True)

    presets = Dict(
        help="""Named choices shown in the form, e.g. `{"small": {"display_name": "Small",
        "cpus": 1, "memory_gb": 2}}`; they must lie within `resource_limits`.""",
    ).tag(config=True)

    files_dir = Unicode(
        "jupyter",
        help="""Directory of the user's home (relative) that is copied into the job and
        back when the server stops or the job is evicted. It is the notebook's root.""",
    ).tag(config=True)

    job_log_dir = Unicode(
        ".jupyterhub-unchained",
        help="Directory of the user's home (relative) that receives each job's output and errors.",
    ).tag(config=True)

    condor_bin_dir = Unicode("/usr/bin", help="Where the HTCondor commands are.").tag(config=True)

    sudo = Unicode("/usr/bin/sudo", help="sudo, which runs the user's HTCondor commands as the user.").tag(config=True)

    status_interval = Float(
        30.0,
        help="""Seconds between the hub's schedd queries (one for all servers) while no
        server is starting or stopping.""",
    ).tag(config=True)

    status_fast_interval = Float(
        0.5, help="Seconds between schedd queries while a server is starting or stopping."
    ).tag(config=True)

    idle_explain_after = Float(
        5.0,
        help="""Seconds a job may wait for a machine before the spawn page shows HTCondor's
        analysis of why (from `condor_q -better-analyze`).""",
    ).tag(config=True)

    connect_timeout = Float(
        30.0, help="Seconds to keep trying condor_ssh_to_job after the job starts."
    ).tag(config=True)

    tunnel_python = Unicode(
        help="""Python that runs the tunnel's ssh wrapper as the user on the hub; it must
        import unchained_hub. Default: the hub's own Python.""",
    ).tag(config=True)

    @default("tunnel_python")
    def _default_tunnel_python(self):
        return sys.executable

    tunnel_probe_interval = Float(
        1.0, help="Seconds between checks that a tunnel still carries requests."
    ).tag(config=True)

    stop_grace = Float(
        30.0,
        help="""Seconds to wait for a stopped server's job to end by itself, so that
        HTCondor brings its files back, before removing it.""",
    ).tag(config=True)

    orphan_grace = Float(
        120.0,
        help="""Seconds after which a job of this hub that belongs to no server (left by a
        spawn the hub did not live to finish) is removed.""",
    ).tag(config=True)

    # Not settings: the state of this server.
    cluster = Integer(0)
    job_started = Integer(0)
    environment_id = Unicode("")
    socket_path = Unicode("")
    tunnel_port = Integer(0)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for section in ("BatchSpawnerBase", "CondorSpawner", "UnchainedSpawner", "Spawner"):
            refused = sorted(set(self.config.get(section, {})) & set(REFUSED_BATCHSPAWNER_SETTINGS))
            if refused:
                raise ValueError(f"c.{section}.{refused[0]} has no effect with UnchainedSpawner and is "
                                 "refused: use resource_limits, presets and environments instead")
        options.check_config(self.resource_limits, self.presets, self.environments)
        for env_id, env in self.environments.items():
            submit.safe(env.get("launcher"), f"environments[{env_id!r}].launcher")
            if not env.get("command"):
                raise ValueError(f"environments[{env_id!r}] has no command")
            if env.get("lmod_module") and not singleuser.LMOD_MODULE.match(env["lmod_module"]):
                raise ValueError(f"environments[{env_id!r}].lmod_module must be a module name like jupyter/2026.11")
            if env.get("container_image") is not None:
                image = submit.safe(env["container_image"], f"environments[{env_id!r}].container_image")
                if not image.startswith("/"):
                    raise ValueError(f"environments[{env_id!r}].container_image must be an absolute path "
                                     "on the workers")
        # The shared poller also removes orphaned jobs, so it runs from the
        # first spawner on, not only from the first spawn.
        self.poller.start()
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
            bin_dir=self.condor_bin_dir, orphan_grace=self.orphan_grace,
            remove_orphan=self._remove_orphan)

    def _condor(self, user=None):
        return condor.UserCondor(user or self.user.name, bin_dir=self.condor_bin_dir, sudo=self.sudo)

    async def _remove_orphan(self, owner, cluster):
        await self._condor(owner).remove(cluster)

    # -- the form ---------------------------------------------------------

    @default("env_keep")
    def _default_env_keep(self):
        # The hub's own environment (its venv, PATH, ...) means nothing on a worker.
        return []

    @default("options_form")
    def _default_options_form(self):
        return options.render_form(self.resource_limits, self.presets, self.environments,
                                   self.default_environment)

    def options_from_form(self, formdata):
        return options.options_from_form(formdata)

    @default("apply_user_options")
    def _default_apply_user_options(self):
        # JupyterHub 5.3+ calls this before start(), so a bad choice is refused
        # before anything happens; start() checks again for older versions.
        def check(spawner, user_options):
            spawner._request()
        return check

    def _request(self):
        try:
            return options.parse_request(self.user_options or {}, self.resource_limits, self.presets,
                                         self.environments, self.default_environment)
        except options.OptionError as e:
            raise web.HTTPError(400, str(e), reason=str(e)) from None

    # -- state --------------------------------------------------------------

    def get_state(self):
        state = super().get_state()
        if self.cluster:
            state.update(cluster=self.cluster, job_started=self.job_started,
                         environment_id=self.environment_id,
                         socket_path=self.socket_path, tunnel_port=self.tunnel_port)
        return state

    def load_state(self, state):
        super().load_state(state)
        self.cluster = int(state.get("cluster", 0))
        self.job_started = int(state.get("job_started", 0))
        env_id = state.get("environment_id", "")
        self.environment_id = env_id if env_id in self.environments else ""
        path = state.get("socket_path", "")
        self.socket_path = path if condor.SOCKET_PATH.match(path) else ""
        self.tunnel_port = int(state.get("tunnel_port", 0))

    def clear_state(self):
        super().clear_state()
        self.cluster = 0
        self.job_started = 0
        self.environment_id = ""
        self.socket_path = ""
        self.tunnel_port = 0

    # -- progress -----------------------------------------------------------

    def _emit(self, progress, message):
        self.log.info("%s: %s", self._log_name, message)
        self._events.append({"progress": progress, "message": message})
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
        request = self._request()
        env_spec = self.environments[request.environment]
        try:
            home = pwd.getpwnam(self.user.name).pw_dir
        except KeyError:
            raise web.HTTPError(500, f"{self.user.name} has no account on the hub machine; "
                                     "ask the site admin") from None
        if self._last_end:
            self._emit(1, self._last_end)
            self._last_end = ""
        user_condor = self._condor()
        self._emit(5, "Preparing your files and HTCondor credentials")
        description = submit.build(
            request, hub_id=self.hub_id, home=home, files_dir=self.files_dir,
            log_dir=self.job_log_dir, launcher=env_spec["launcher"], command=env_spec["command"],
            environment=env_spec.get("environment"), preload=env_spec.get("preload", ()),
            lmod_module=env_spec.get("lmod_module"), container_image=env_spec.get("container_image"))
        poller = self.poller
        try:
            await asyncio.gather(
                user_condor.prepare(os.path.join(home, self.files_dir), os.path.join(home, self.job_log_dir)),
                user_condor.fetch_token())
            self.environment_id = request.environment
            self.cluster = await user_condor.submit(description)
        except condor.TicketError as e:
            raise web.HTTPError(403, str(e)) from None
        except condor.CondorError as e:
            if "sudo:" in str(e):
                raise web.HTTPError(403, f"The hub may not start jobs for {self.user.name} ({e}). "
                                         "Ask the site admin to add you to the hub's users.") from None
            raise web.HTTPError(500, f"Your job could not be submitted: {e}") from None
        poller.claim(self.cluster)
        submitted_serial = poller.queries
        self._emit(20, f"Submitted job {self.cluster}.0 for {request.describe()}")
        try:
            while True:
                host = await self._wait_running(submitted_serial)
                self._emit(60, f"Job {self.cluster}.0 is running on {host}; connecting to it")
                try:
                    self.socket_path = await self._handshake(user_condor, env_spec["launcher"])
                    break
                except _JobRestarted:
                    self._emit(40, f"Job {self.cluster}.0 stopped on {host} before its server came up; "
                                   "HTCondor starts it again (and holds it if that keeps failing)")
            self.tunnel_port = free_port()
            await self._open_tunnel()
            self._emit(90, "Connected; waiting for JupyterLab to answer")
            await self._wait_answering()
        except BaseException:
            await self._discard_job()
            raise
        return await self.get_url()

    async def _wait_answering(self):
        """Return once the server answers through the tunnel, so JupyterHub's own
        check (which backs off to seconds between tries) succeeds at once."""
        deadline = time.monotonic() + self.http_timeout
        checked = time.monotonic()
        while not await self._tunnel.answers():
            if time.monotonic() > deadline:
                return  # JupyterHub's own check reports the timeout
            if time.monotonic() - checked > 2:
                checked = time.monotonic()
                await self.poller.next_update(timeout=2)
                await self._raise_if_not_running(self.poller.status(self.cluster))
            await asyncio.sleep(0.05)

    async def _wait_running(self, submitted_serial):
        poller = self.poller
        idle_since = None
        explained = False
        while True:
            await poller.next_update(timeout=10)
            ad = poller.status(self.cluster)
            if ad is None:
                if poller.answered_serial > submitted_serial:
                    raise web.HTTPError(500, await self._gone_message())
                continue
            status = ad.get("JobStatus")
            if status == 2:
                self.job_started = _start_date(ad)
                return ad.get("RemoteHost", "?").split("@")[-1]
            await self._raise_if_not_running(ad)
            if status == 1:
                if idle_since is None:
                    idle_since = time.monotonic()
                    self._emit(30, f"Job {self.cluster}.0 is waiting for a machine")
                elif not explained and time.monotonic() - idle_since > self.idle_explain_after:
                    explained = True
                    why = await poller.why_idle(self.cluster)
                    if why:
                        self._emit(35, f"Job {self.cluster}.0 is still waiting: {why}")

    async def _raise_if_not_running(self, ad):
        """Raise the user's error for a job that is held, gone or finished."""
        if ad is None or ad.get("JobStatus") in (3, 4):
            raise web.HTTPError(500, await self._gone_message())
        if ad.get("JobStatus") == 5:
            raise web.HTTPError(500, f"HTCondor held job {self.cluster}.0: {ad.get('HoldReason')}. "
                                     "The job was removed; check your choices or ask the site admin.")

    async def _gone_message(self, while_starting=True):
        """Why the job left the queue, from its history, for the user."""
        ad = await condor.job_history(self.cluster, bin_dir=self.condor_bin_dir) or {}
        reason = ad.get("RemoveReason") or ad.get("LastHoldReason") or ad.get("HoldReason")
        if ad.get("JobStatus") == 4:
            reason = reason or f"it exited with status {ad.get('ExitCode')}"
        what = (f"Job {self.cluster}.0 ended before the server was ready" if while_starting
                else f"Your server (job {self.cluster}.0) ended")
        return (f"{what}: {reason or 'no reason recorded'}. "
                f"Its output is in ~/{self.job_log_dir}/job-{self.cluster}.err.")

    async def _handshake(self, user_condor, launcher):
        """Send the server's settings into the job; learn its socket path."""
        env = {k: v for k, v in self.get_env().items() if k not in NOT_SENT}
        deadline = time.monotonic() + self.connect_timeout
        while True:
            try:
                out = await user_condor.ssh_to_job(self.cluster, launcher, "receive",
                                                   stdin=json.dumps(env), timeout=self.connect_timeout)
                break
            except condor.CondorError as e:
                # For a moment after the job starts its starter is unknown;
                # but the job may also have been held or ended meanwhile.
                await self.poller.next_update(timeout=2)
                ad = self.poller.status(self.cluster)
                await self._raise_if_not_running(ad)
                if ad.get("JobStatus") == 1:
                    raise _JobRestarted() from None
                if time.monotonic() > deadline:
                    raise web.HTTPError(500, f"Could not reach job {self.cluster}.0: {e}") from None
                await asyncio.sleep(0.2)
        path = out.strip().splitlines()[-1] if out.strip() else ""
        if not condor.SOCKET_PATH.match(path):
            raise web.HTTPError(500, f"Job {self.cluster}.0 reported an unexpected socket path {path[:100]!r}")
        return path

    async def _open_tunnel(self):
        user_condor = self._condor()

        async def job_running():
            await self.poller.next_update(timeout=5)
            return self._same_run(self.poller.status(self.cluster))

        self._tunnel = Tunnel(
            user_condor, self.cluster, self.socket_path, self.tunnel_port, log=self.log,
            job_running=job_running, probe_path=f"{self.server.base_url if self.server else '/'}api",
            python=self.tunnel_python, connect_timeout=self.connect_timeout,
            probe_interval=self.tunnel_probe_interval)
        await self._tunnel.open()

    def _same_run(self, ad):
        """Whether the job is running, and still the run our server is in (an
        evicted job that starts again is a new run, without our server)."""
        if ad is None or ad.get("JobStatus") != 2:
            return False
        return not self.job_started or _start_date(ad) in (0, self.job_started)

    async def get_url(self):
        base = self.server.base_url if self.server else "/"
        return f"http://127.0.0.1:{self.tunnel_port}{base}"

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
            self._last_end = await self._gone_message(while_starting=False)
            self.log.warning("%s: %s", self._log_name, self._last_end)
            await self._discard_job()
            return 1
        status = ad.get("JobStatus")
        if status == 2 and not self.job_started:
            self.job_started = _start_date(ad)
        if status == 2 and not self._same_run(ad):
            # Evicted and started again before we saw it idle: the server and
            # its session are gone with the first run.
            status = 1
        if status == 2 and _runtime_over(ad):
            hours = ad["UnchainedRuntime"] / 3600
            self._last_end = (f"Your server (job {self.cluster}.0) reached the run time you chose "
                              f"({hours:g} h) and was stopped; your files were copied back to "
                              f"~/{self.files_dir}.")
            self.log.warning("%s: %s", self._log_name, self._last_end)
            await self._stop_gracefully()
            await self._discard_job()
            return 0
        if status == 2:
            if self._tunnel is None and self.socket_path and self.tunnel_port:
                try:
                    await self._open_tunnel()
                except (RuntimeError, condor.CondorError) as e:
                    self.log.error("%s: could not re-open the tunnel: %s", self._log_name, e)
                    return None
            return None
        if status == 5:
            if ad.get("HoldReasonSubCode") == submit.RUNTIME_HOLD_SUBCODE:
                self._last_end = (f"Your server (job {self.cluster}.0) reached the run time you chose "
                                  f"and was stopped by HTCondor.")
            else:
                self._last_end = f"Your server (job {self.cluster}.0) was held by HTCondor: {ad.get('HoldReason')}"
        elif status == 1:
            self._last_end = (f"Your server (job {self.cluster}.0) was evicted from its machine; "
                              f"your files were copied back to ~/{self.files_dir}.")
        else:
            self._last_end = f"Your server (job {self.cluster}.0) is {JOB_STATUS.get(status, status)}."
        self.log.warning("%s: %s", self._log_name, self._last_end)
        await self._discard_job()
        return 1

    # -- stop ------------------------------------------------------------------

    async def stop(self, now=False):
        if self._tunnel:
            await self._tunnel.close()
            self._tunnel = None
        if self.cluster:
            ad = self.poller.status(self.cluster)
            if not now and ad is not None and ad.get("JobStatus") == 2:
                await self._stop_gracefully()
            await self._discard_job()
        self.clear_state()

    async def _stop_gracefully(self):
        """Ask the server to stop, so that the job ends and its files come back."""
        env = self.environments.get(self.environment_id)
        if env is None:
            return
        try:
            await self._condor().ssh_to_job(self.cluster, env["launcher"], "stop", timeout=15)
        except condor.CondorError as e:
            self.log.warning("%s: could not ask job %s to stop (%s); removing it", self._log_name,
                             self.cluster, e)
            return
        deadline = time.monotonic() + self.stop_grace
        while time.monotonic() < deadline:
            await self.poller.next_update(timeout=5)
            if self.poller.status(self.cluster) is None:
                return
        self.log.warning("%s: job %s did not end within %s s of stopping; removing it",
                         self._log_name, self.cluster, self.stop_grace)

    async def _discard_job(self):
        if self._tunnel:
            await self._tunnel.close()
            self._tunnel = None
        if self.cluster:
            try:
                await self._condor().remove(self.cluster)
            except condor.CondorError as e:
                self.log.error("%s: could not remove job %s: %s", self._log_name, self.cluster, e)
            self.poller.release(self.cluster)
            self.cluster = 0


def _runtime_over(ad):
    """Whether a running job has used up the run time its user chose."""
    started, runtime = ad.get("JobCurrentStartDate"), ad.get("UnchainedRuntime")
    return bool(started and runtime) and time.time() - started > runtime


def _start_date(ad):
    """When the job's current run started (0 if the schedd does not say yet)."""
    return int(ad.get("JobCurrentStartDate") or 0)


class _JobRestarted(Exception):
    """The job went back to idle before its server came up (HTCondor restarts
    a job whose start failed on the worker, e.g. in a broken image)."""
