"""One `condor_ssh_to_job` session per notebook server carries everything
between the hub and the job.

The session is `condor_ssh_to_job -ssh "ssh OPTIONS" JOB LAUNCHER attach`,
run as the user through sudo (`condor.UserCondor.tunnel_argv`):

- its standard input carries the server's settings (one JSON line, the API
  token among them; see `singleuser.attach`) and then stays open. When the
  hub closes it, or dies, `attach` ends, and with it the session: the tunnel
  cannot outlive the hub that uses it;
- its standard output carries `attach`'s answers (started, ready, stopped);
- its ssh forwards the hub-side endpoint, a Unix socket in a directory that
  only the hub's account and this user can enter (`prepare_endpoint_dir`),
  to the server's socket in the job (-L), and a socket in the job to the
  hub's API (-R), so the job needs no network path to the hub;
- its ssh is handed the connection to the job's sshd by `fdpass.py` and
  talks to it directly, with no process copying bytes in between.

A server thus costs three processes on the hub (sudo, condor_ssh_to_job,
ssh), all of them the user's: the hub cannot signal them, but closing the
pipe ends them. A Unix socket has no Nagle delay, so nothing needs to set
TCP_NODELAY in front of ssh's forward any more.

Before a route to an endpoint is used, the hub checks who listens there
(SO_PEERCRED): this user, from this tunnel's own processes, or the tunnel
is refused. Every wait has a deadline; a command slot (`condor`) is held
only for the first seconds of a session, never for as long as a process
the user controls cares to take; reconnects back off, with jitter.
"""

import asyncio
import contextlib
import json
import os
import random
import secrets
import socket
import stat
import struct
import time
import urllib.parse

from . import acl, commands, metrics
from .condor import schedd_command_slot
from .contract import ANSWER, FDPASS_MODULE, SERVER_SOCKET, SESSION_DIR, STOP, safe

SSH_OPTIONS = (
    # Fail instead of running without the forwards.
    "-oExitOnForwardFailure=yes",
    # A hung connection is noticed within ~3 s.
    "-oServerAliveInterval=1", "-oServerAliveCountMax=3",
    "-oConnectTimeout=10", "-oBatchMode=yes", "-oLogLevel=ERROR",
    # The endpoint is rw for the hub's account through the directory's
    # default ACL, which the mode's group bits mask; replace a stale one.
    "-oStreamLocalBindMask=0117", "-oStreamLocalBindUnlink=yes",
)
# What `attach` may print before its first answer (a login shell's noise).
MAX_NOISE = 64 * 1024


class TunnelError(RuntimeError):
    """The tunnel could not be opened; the message says why."""


def prepare_endpoint_dir(base, user, uid):
    """The directory of `user`'s endpoints: the hub's own (so no one can put
    it there first), 0700, and by ACL open to `uid` (to create sockets in it)
    and, by default ACL, every socket in it open to the hub (to connect)."""
    os.makedirs(base, mode=0o711, exist_ok=True)
    path = os.path.join(base, user)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise TunnelError(f"{path} is not the hub's own directory; remove it")
    os.chmod(path, 0o700)
    acl.set_access(path, uid, 7)
    acl.set_default(path, os.geteuid(), 6)
    return path


def endpoint(base, user, cluster):
    """The hub-side endpoint of a job's tunnel: one per job, the same across
    reconnects and hub restarts, so the proxy's route never changes."""
    return os.path.join(base, user, f"job-{int(cluster)}.sock")


def url(path, base_url):
    """The server's URL for JupyterHub and its proxy."""
    return f"http+unix://{urllib.parse.quote(path, safe='')}{base_url}"


def listener_credentials(path):
    """(pid, uid) of the process that listens on the Unix socket at path."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        probe.connect(path)
        pid, uid, _ = struct.unpack("3i", probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
    return pid, uid


def _descends_from(pid, ancestor, depth=8):
    for _ in range(depth):
        if pid == ancestor:
            return True
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
    return False


def backoff(failures, base=1.0, cap=30.0):
    """Seconds before reconnect attempt `failures` + 1: at once first, then
    doubling to `cap`, each with +-25 % jitter so that tunnels lost together
    do not all come back at the same moment."""
    if failures == 0:
        return random.uniform(0, 0.2)
    return min(cap, base * 2 ** (failures - 1)) * random.uniform(0.75, 1.25)


class Tunnel:
    """The session of one server: open it, keep it, close it.

    `condor` is the user's `UserCondor`, `uid` the user's uid; `settings`
    (dict) go to the server once, with the first session; `hub_api` is the
    hub API's `host:port` as the hub itself reaches it; `await job_running()`
    says whether the job is still worth reconnecting to; `probe_path` is an
    HTTP path of the server that answers without authentication. A tunnel
    that cannot be re-established for `lost_after` seconds while the job
    runs is `lost` (its worker stopped answering): it gives up and calls
    `on_lost()`.
    """

    def __init__(self, condor, cluster, *, launcher, endpoint, uid, settings, hub_api, log, job_running,
                 probe_path, python, connect_timeout=30.0, ready_timeout=120.0, probe_interval=1.0,
                 probe_timeout=1.0, probe_failures=3, slot_hold=5.0, lost_after=60.0, on_lost=None):
        self.condor = condor
        self.cluster = cluster
        self.launcher = launcher
        self.endpoint = endpoint
        self.uid = uid
        self._settings = settings
        self.hub_api = hub_api
        self.log = log
        self.job_running = job_running
        self.probe_path = probe_path
        self.python = python
        self.connect_timeout = connect_timeout
        self.ready_timeout = ready_timeout
        self.probe_interval = probe_interval
        self.probe_timeout = probe_timeout
        self.probe_failures = probe_failures
        self.slot_hold = slot_hold
        self.lost_after = lost_after
        self.on_lost = on_lost
        self.lost = False
        self.server_started_at = None  # when the job last answered that it started the server (monotonic)
        self._proc = None
        self._answers = None
        self._task = None
        self._stopping = False
        self._server_seen = False

    def argv(self, hub_api_socket):
        """The session's command line (see `condor.UserCondor.tunnel_argv`);
        `hub_api_socket` names the reverse forward's socket in the job."""
        proxy = f"-oProxyCommand={safe(self.python, 'python')} -m {FDPASS_MODULE} %x"
        ssh = ["ssh", "-oProxyUseFdpass=yes", proxy, *SSH_OPTIONS,
               "-L", f"{safe(self.endpoint, 'endpoint')}:{SESSION_DIR}/{SERVER_SOCKET}",
               "-R", f"{SESSION_DIR}/{hub_api_socket}:{safe(self.hub_api, 'hub API address')}"]
        return self.condor.tunnel_argv(self.cluster, ssh, self.launcher)

    async def open(self):
        """Open the session; return once the server listens and the endpoint
        is this tunnel's. Raises TunnelError."""
        await self._connect()
        self._task = asyncio.ensure_future(self._supervise())

    @property
    def kept(self):
        """Whether the tunnel is open or being re-established."""
        return self._task is not None and not self._task.done()

    async def close(self):
        self._stopping = True
        await self._stop_supervising()
        await self._end_process()

    async def _stop_supervising(self):
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def stop_server(self, timeout=15.0):
        """Ask the server to stop through the session, so that its job ends
        and HTCondor brings the files back; whether it said it stops."""
        # The supervisor reads the session's answers too: stop it first, or it
        # may take the answer ("stopped") this waits for.
        self._stopping = True
        await self._stop_supervising()
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return False
        try:
            proc.stdin.write(f"{STOP}\n".encode())
            answer = await self._answer(proc, timeout)
        except (OSError, TunnelError):
            return False
        return bool(answer.get("stopped"))

    async def answers(self):
        """Whether the server answers through the tunnel right now."""
        ok = await self._probe()
        # From now on, not answering means the tunnel is lost.
        self._server_seen = self._server_seen or ok
        return ok

    # -- opening ---------------------------------------------------------

    async def _connect(self):
        """Open a session, retrying while the job's starter is not yet
        reachable (the first seconds after a job starts), with back-off."""
        deadline = time.monotonic() + self.connect_timeout
        tries = 0
        while True:
            try:
                await self._attempt(deadline)
                return
            except TunnelError as e:
                await self._end_process()
                tries += 1
                if time.monotonic() + 0.3 > deadline:
                    raise TunnelError(f"could not open the tunnel to job {self.cluster}.0: {e}") from None
                await asyncio.sleep(min(0.3 * 1.5 ** (tries - 1), 3.0) * random.uniform(0.8, 1.2))

    async def _attempt(self, deadline):
        hub_api_socket = f"hub-api-{secrets.token_hex(8)}.sock"
        argv = self.argv(hub_api_socket)
        # condor_ssh_to_job talks to the schedd first: that part is queued
        # with the hub's other HTCondor commands, for a few seconds at most.
        async with schedd_command_slot():
            proc = self._proc = await commands.start(argv, stdin=True, start_new_session=True)
            self._answers = _AnswerReader(proc)
            request = {"env": self._settings or {}, "hub_api": hub_api_socket}
            proc.stdin.write(json.dumps(request).encode() + b"\n")
            started = await self._answer(proc, self.slot_hold, or_none=True)
        if started is None:
            started = await self._answer(proc, max(0.1, deadline - time.monotonic()))
        if not started.get("started"):
            raise TunnelError(started.get("error") or f"unexpected answer {started}")
        self.server_started_at = time.monotonic()
        # The server has its settings: the hub needs them no more.
        self._settings = None
        ready = await self._answer(proc, self.ready_timeout)
        if not ready.get("ready"):
            raise TunnelError(ready.get("error") or f"unexpected answer {ready}")
        self._check_endpoint(proc)

    async def _answer(self, proc, timeout, or_none=False):
        """The next answer of `attach`; None if there is none within timeout
        and `or_none`; else TunnelError saying why there is none."""
        try:
            answer = await self._answers.next(timeout)
        except asyncio.TimeoutError:
            if or_none:
                return None
            raise TunnelError(f"no answer from the job within {timeout:g} s") from None
        if answer is None:
            raise TunnelError(await self._answers.failure())
        return answer

    def _check_endpoint(self, proc):
        """Refuse an endpoint that is not this user's tunnel."""
        try:
            info = os.lstat(self.endpoint)
            pid, uid = listener_credentials(self.endpoint)
        except OSError as e:
            raise TunnelError(f"{self.endpoint}: {e.strerror}") from None
        if not stat.S_ISSOCK(info.st_mode) or info.st_uid != self.uid or uid != self.uid:
            why = f"listened on by uid {uid}, owned by uid {info.st_uid}, not the user's {self.uid}"
        elif not _descends_from(pid, proc.pid):
            why = f"listened on by process {pid}, which is not this tunnel's"
        else:
            return
        self.log.error("tunnel to job %s refused: %s %s", self.cluster, self.endpoint, why)
        raise TunnelError(f"the tunnel's endpoint {self.endpoint} is {why}")

    # -- keeping ---------------------------------------------------------

    async def _supervise(self):
        while not self._stopping:
            reason = await self._watch()
            if self._stopping:
                return
            # A session that does not end at once (its ssh stopped, say) is
            # left to end in the background: the next one replaces its endpoint.
            await self._end_process(wait=False)
            if not await self._reconnect(reason):
                return

    async def _reconnect(self, reason):
        """Open a new session while the job runs, backing off between
        failures; whether one is open."""
        failures = 0
        lost_since = time.monotonic()
        while not self._stopping:
            if not await self.job_running():
                self.log.info("tunnel to job %s ended (%s); the job is not running, not reconnecting",
                              self.cluster, reason)
                return False
            left = self.lost_after - (time.monotonic() - lost_since)
            if left <= 0:
                self.lost = True
                self.log.error("tunnel to job %s could not be re-established for %.0f s while the job runs "
                               "(%s): its worker is lost", self.cluster, self.lost_after, reason)
                metrics.TUNNEL_RECONNECTS.labels("lost").inc()
                if self.on_lost:
                    self.on_lost()
                return False
            delay = min(backoff(failures), left)
            self.log.warning("tunnel to job %s lost (%s); reconnecting in %.1f s", self.cluster, reason, delay)
            await asyncio.sleep(delay)
            started = time.monotonic()
            try:
                await asyncio.wait_for(self._connect(), max(0.1, lost_since + self.lost_after - started))
            except (TunnelError, asyncio.TimeoutError) as e:
                await self._end_process(wait=False)
                failures += 1
                reason = str(e) or "no session in time"
                self.log.error("tunnel to job %s: %s", self.cluster, reason)
                continue
            self.log.info("tunnel to job %s re-established in %.2f s", self.cluster, time.monotonic() - started)
            metrics.TUNNEL_RECONNECTS.labels("reconnected").inc()
            return True
        return False

    async def _watch(self):
        """Wait until the session ends or the server stops answering
        `probe_failures` probes in a row (one slow answer is no loss); say why."""
        misses = 0
        while True:
            try:
                answer = await self._answers.next(self.probe_interval)
            except asyncio.TimeoutError:
                answer = {}
            if answer is None:
                return await self._answers.failure()
            if answer.get("ended"):
                return answer["ended"]
            if answer or not self._server_seen:
                continue
            misses = 0 if await self._probe() else misses + 1
            if misses >= self.probe_failures:
                return f"the server did not answer {misses} probes in a row"

    async def _end_process(self, wait=True):
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if self._answers:
            self._answers.cancel()
        if proc.returncode is not None:
            proc.close()
            return
        # Closing its standard input ends the session (see the module docstring).
        with contextlib.suppress(OSError):
            proc.stdin.close()
        if wait:
            await self._reap(proc)
        else:
            asyncio.ensure_future(self._reap(proc))

    async def _reap(self, proc):
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except asyncio.TimeoutError:
            # The user's process does not react (stopped, say): it is theirs,
            # and it holds nothing another tunnel needs. Leave it.
            self.log.warning("tunnel to job %s did not end within 5 s of closing its pipe; leaving it",
                             self.cluster)
            with contextlib.suppress(ProcessLookupError, PermissionError, asyncio.TimeoutError):
                proc.kill()
                await asyncio.wait_for(proc.wait(), 1)
        finally:
            # What the session's processes still write (a shell's start-up
            # files past MAX_NOISE, say) fails instead of filling the pipes.
            proc.close()

    async def _probe(self):
        """One HTTP request through the tunnel; any HTTP answer will do."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(self.endpoint),
                                                    self.probe_timeout)
        except (OSError, asyncio.TimeoutError):
            return False
        try:
            writer.write(f"GET {self.probe_path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            line = await asyncio.wait_for(reader.readline(), self.probe_timeout)
            return line.startswith(b"HTTP/")
        except (OSError, asyncio.TimeoutError):
            return False
        finally:
            writer.close()


class _AnswerReader:
    """Reads `attach`'s answers from a session's standard output (bounded),
    and keeps the end of its standard error (read all along, so that a
    chatty session never blocks on a full pipe) to say why it ended."""

    def __init__(self, proc):
        self.proc = proc
        self.queue = asyncio.Queue()
        self.ended = False
        self.noisy = False
        self.errors = b""
        self.tasks = [asyncio.ensure_future(self._read()), asyncio.ensure_future(self._read_errors())]

    async def _read(self):
        noise = 0
        while noise <= MAX_NOISE:
            try:
                line = await self.proc.stdout.readline()
            except ValueError:  # a line longer than the stream's limit (64 KiB): noise
                noise = MAX_NOISE + 1
                break
            if not line:
                break
            if line.startswith(ANSWER.encode()):
                try:
                    self.queue.put_nowait(json.loads(line[len(ANSWER):]))
                except ValueError:
                    pass
            else:
                noise += len(line)
        self.noisy = noise > MAX_NOISE
        await self.queue.put(None)

    async def _read_errors(self):
        while chunk := await self.proc.stderr.read(4096):
            self.errors = (self.errors + chunk)[-4096:]

    async def next(self, timeout):
        """The next answer; None once the output has ended (and ever after);
        asyncio.TimeoutError if none comes within timeout."""
        if self.ended:
            return None
        answer = await asyncio.wait_for(self.queue.get(), timeout)
        self.ended = answer is None
        return answer

    async def failure(self):
        """Why the session ended, from its exit status and standard error."""
        if self.noisy:
            return (f"the session printed more than {MAX_NOISE // 1024} KiB that was not an answer of the server's "
                    "launcher; the hub reads no more. Your shell's start-up files (~/.bashrc, ~/.profile) run in "
                    "the job: make them print nothing when the shell is not interactive")
        try:
            code = await asyncio.wait_for(self.proc.wait(), 5)
            if not self.tasks[1].cancelled():
                await asyncio.wait_for(asyncio.shield(self.tasks[1]), 1)
        except asyncio.TimeoutError:
            return "the session's output ended"
        last = [line for line in self.errors.decode(errors="replace").splitlines() if line.strip()]
        return f"exited with status {code}" + (f": {last[-1]}" if last else "")

    def cancel(self):
        for task in self.tasks:
            task.cancel()
