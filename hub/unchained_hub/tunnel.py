"""One supervised `condor_ssh_to_job` port forward per notebook server.

The hub reaches the server at 127.0.0.1:PORT; ssh forwards each connection
to the server's Unix socket inside the job. A `Tunnel` belongs to one spawner and
keeps no state anywhere else, so losing or stopping one user's tunnel never
touches another's.

The forward runs as the user (through sudo), so the hub cannot signal it.
Its lifetime is therefore tied to a pipe instead: condor_ssh_to_job runs
`python -m unchained_hub.tunnel PORT SOCKET` in place of ssh (see `main`),
which runs the real ssh and kills it as soon as its standard input, the
hub's end of the pipe, closes: when the hub stops the tunnel, and when the
hub process dies for any reason.

The same process owns 127.0.0.1:PORT and relays each connection to ssh's
forward, a Unix socket in a directory only the user can enter. ssh does not
set TCP_NODELAY on the sockets of a forward, so with ssh on the port, Nagle
held the last piece of each burst of websocket messages until the proxy's
delayed ACK, 40 ms later: every kernel execution took 40 ms longer.
"""

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

from .condor import schedd_command_slot
from .contract import TUNNEL_MODULE, safe

SSH_OPTIONS = (
    # Fail instead of running without the forward.
    "-oExitOnForwardFailure=yes",
    # A hung connection is noticed within ~3 s.
    "-oServerAliveInterval=1", "-oServerAliveCountMax=3",
    "-oConnectTimeout=10", "-oBatchMode=yes", "-oLogLevel=ERROR",
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Tunnel:
    """Keep a forward from 127.0.0.1:port to the job's socket alive.

    `condor` is the user's `UserCondor`; `await job_running()` says whether
    the job is still worth reconnecting to; `probe_path` is an HTTP path of the
    server that answers without authentication (its `/api`).
    """

    def __init__(self, condor, cluster, socket_path, port, *, log, job_running, probe_path,
                 python=sys.executable, connect_timeout=30, probe_interval=1.0, probe_timeout=1.5):
        self.condor = condor
        self.cluster = cluster
        self.socket_path = socket_path
        self.port = port
        self.log = log
        self.job_running = job_running
        self.probe_path = probe_path
        self.python = python
        self.connect_timeout = connect_timeout
        self.probe_interval = probe_interval
        self.probe_timeout = probe_timeout
        self._proc = None
        self._task = None
        self._stopping = False
        self._server_seen = False

    async def open(self):
        """Start the forward; return once the local port listens."""
        await self._connect()
        self._task = asyncio.ensure_future(self._supervise())

    async def close(self):
        self._stopping = True
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._end_process()

    async def _end_process(self):
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        # Closing its stdin ends the forward (see the module docstring).
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except asyncio.TimeoutError:
            self.log.warning("tunnel to job %s did not end within 5 s of closing its pipe", self.cluster)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                proc.kill()

    def argv(self):
        """The tunnel's command line: condor_ssh_to_job as the user, running
        this module's `main` in place of ssh."""
        return self.condor.tunnel_argv(self.cluster, [
            safe(self.python, "python"), "-m", TUNNEL_MODULE,
            str(int(self.port)), safe(self.socket_path, "socket path")])

    async def _connect(self):
        """Start condor_ssh_to_job, retrying while the job's starter is not
        yet reachable (the first seconds after a job starts)."""
        argv = self.argv()
        deadline = time.monotonic() + self.connect_timeout
        while True:
            # condor_ssh_to_job talks to the schedd until the forward is up.
            async with schedd_command_slot():
                self._proc = await asyncio.create_subprocess_exec(
                    *argv, cwd="/", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE, start_new_session=True)
                error = await self._wait_listening(self._proc)
            if error is None:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not open the tunnel to job {self.cluster}.0: {error}")
            await asyncio.sleep(0.3)

    async def _wait_listening(self, proc):
        """None once 127.0.0.1:port accepts connections, else the error."""
        while proc.returncode is None:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return None
            except OSError:
                pass
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), 0.05)
        err = (await proc.stderr.read()).decode(errors="replace").strip()
        return err.splitlines()[-1] if err else f"exit status {proc.returncode}"

    async def _supervise(self):
        while not self._stopping:
            reason = await self._watch()
            if self._stopping:
                return
            if not await self.job_running():
                self.log.info("tunnel to job %s ended (%s); the job is not running, not reconnecting",
                              self.cluster, reason)
                return
            started = time.monotonic()
            self.log.warning("tunnel to job %s lost (%s); reconnecting", self.cluster, reason)
            await self._end_process()
            try:
                await self._connect()
            except RuntimeError as e:
                self.log.error("%s", e)
                await asyncio.sleep(1)
                continue
            self.log.info("tunnel to job %s re-established in %.2f s", self.cluster,
                          time.monotonic() - started)

    async def _watch(self):
        """Wait until the forward dies or stops answering; say why."""
        proc = self._proc
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), self.probe_interval)
                err = (await proc.stderr.read()).decode(errors="replace").strip()
                return f"exited with status {proc.returncode}" + (f": {err.splitlines()[-1]}" if err else "")
            if not await self.answers() and self._server_seen:
                return "the server stopped answering through it"

    async def answers(self):
        """Whether the server answers through the tunnel right now."""
        ok = await self._probe()
        # From now on, not answering means the tunnel is lost.
        self._server_seen = self._server_seen or ok
        return ok

    async def _probe(self):
        """One HTTP request through the tunnel; any HTTP answer will do."""
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", self.port), self.probe_timeout)
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


def main(argv=None):
    """Run in place of ssh by condor_ssh_to_job, as the user, on the hub:
    `python -m unchained_hub.tunnel PORT SOCKET SSH-ARGS...`."""
    argv = sys.argv[1:] if argv is None else argv
    port, socket_path, ssh_args = argv[0], argv[1], argv[2:]
    if not re.fullmatch(r"[0-9]{1,5}", port) or not socket_path.startswith("/"):
        sys.exit("usage: python -m unchained_hub.tunnel PORT SOCKET SSH-ARGS...")
    # The port in the name lets an admin (and the tests) find a server's ssh.
    with tempfile.TemporaryDirectory(prefix=f"unchained-tunnel-{port}-") as private:
        forward = os.path.join(private, "forward.sock")
        ssh = subprocess.Popen(["ssh", *SSH_OPTIONS, "-N", "-L", f"{forward}:{socket_path}", *ssh_args],
                               stdin=subprocess.DEVNULL)

        def end(*_):
            if ssh.poll() is None:
                ssh.kill()

        signal.signal(signal.SIGTERM, end)
        try:
            code = asyncio.run(_serve(int(port), forward, ssh, end))
        finally:
            end()
    sys.exit(code if code >= 0 else 1)


async def _serve(port, forward, ssh, end):
    """Relay 127.0.0.1:port to the forward until ssh exits or stdin closes;
    listen only once the forward does, so that a connection means a tunnel."""
    loop = asyncio.get_running_loop()
    stdin_closed = loop.create_future()
    loop.add_reader(0, lambda: (os.read(0, 4096) or stdin_closed.done() or stdin_closed.set_result(None)))
    exited = loop.run_in_executor(None, ssh.wait)
    while not os.path.exists(forward):
        if exited.done() or stdin_closed.done():
            end()
            return await exited
        await asyncio.sleep(0.02)
    try:
        server = await asyncio.start_server(lambda r, w: _relay(r, w, forward), "127.0.0.1", port)
    except OSError as e:
        print(f"cannot listen on 127.0.0.1:{port}: {e.strerror}", file=sys.stderr)
        end()
        await exited
        return 1
    await asyncio.wait([exited, stdin_closed], return_when=asyncio.FIRST_COMPLETED)
    server.close()
    end()
    return await exited


async def _relay(client_reader, client_writer, forward):
    client_writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        forward_reader, forward_writer = await asyncio.open_unix_connection(forward)
    except OSError:
        client_writer.close()
        return
    writers = (client_writer, forward_writer)

    async def pipe(reader, writer):
        try:
            while data := await reader.read(1 << 16):
                writer.write(data)
                await writer.drain()
            writer.write_eof()
        except OSError:
            # One side is gone: end both, or the other would wait forever.
            for w in writers:
                w.transport.abort()
    await asyncio.gather(pipe(client_reader, forward_writer), pipe(forward_reader, client_writer))
    for w in writers:
        w.close()


if __name__ == "__main__":
    main()
