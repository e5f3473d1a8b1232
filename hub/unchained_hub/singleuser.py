"""`unchained-singleuser`: the job's side of the spawner.

The job starts as

    unchained-singleuser --files-dir jupyter -- jupyterhub-singleuser [ARGS]

and waits. Nothing secret is in the job's ClassAd, arguments or environment:
the hub reaches the job through one `condor_ssh_to_job` session per server
(see `tunnel.py`), which runs `unchained-singleuser attach` inside the job
with the server's settings (its API token among them) on standard input.
`attach` hands them to the launcher over a socket in a private directory of
the job's own /tmp, answers when the server listens, and holds the session
open: the hub's forward to the server's socket and the reverse forward to
the hub's API (relayed by the launcher to a loopback port in the job, since
the single-user server speaks to the hub API over TCP only) live in it.

A line `stop` on `attach`'s standard input, or `unchained-singleuser stop`
run through a session of its own, stops the server gracefully, so the job
ends by itself and HTCondor brings the files back; a plain `condor_rm`
would discard them.

With `--preload MODULE` (repeatable), the server's process starts at once,
imports those modules while the hub is still connecting, and runs the
command (a Python script, like pip's `jupyterhub-singleuser`) as soon as the
settings arrive: importing jupyter_server takes seconds that would otherwise
come after the handshake. Preloaded modules must not read the hub's settings
at import time.

With `--lmod NAME/VERSION`, the launcher first loads that Lmod module in a
login shell (as a user's terminal would) and runs everything in the
environment it gives: the notebook environment on CVMFS is activated by its
modulefile, so kernels and terminals of the server see it too.
"""

import argparse
import importlib
import json
import os
import re
import runpy
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.parse

from .contract import (
    ANSWER,
    ATTACH,
    CONTROL_SOCKET,
    HUB_API_SOCKET,
    LMOD_MODULE,
    SERVER_SOCKET,
    SESSION_DIR,
    STOP,
    job_dir,
)

JUPYTER_DEFAULT_PORT = 8888
# Settings the hub may send: environment variables, by name.
ALLOWED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Printed before the environment, so that whatever a login profile prints is told apart.
ENV_MARKER = "\0unchained-environment\0"
# Set by the shell that loads the module, not part of the environment it gives.
SHELL_VARIABLES = {"_", "SHLVL", "PWD", "OLDPWD"}


def private_dir():
    """The job's private directory (contract.job_dir), in the tmp/ of its
    scratch directory that HTCondor mounts over /tmp (MOUNT_UNDER_SCRATCH),
    where the hub's session finds it as SESSION_DIR.

    That tmp/ is private if it, or the scratch directory that holds it, is
    this user's alone: HTCondor makes tmp/ mode 0700; Apptainer, which does
    the mount for an unprivileged starter (a drone), makes it 1777 inside a
    0700 scratch directory."""
    scratch = os.environ.get("_CONDOR_SCRATCH_DIR")
    if not scratch:
        sys.exit("unchained-singleuser: _CONDOR_SCRATCH_DIR is not set; run me as an HTCondor job")
    if not (os.path.isdir(os.path.join(scratch, "tmp"))
            and (_private(os.path.join(scratch, "tmp")) or _private(scratch))):
        sys.exit("unchained-singleuser: this worker gives jobs no private /tmp, where the hub's tunnel "
                 "finds the notebook (HTCondor's MOUNT_UNDER_SCRATCH = /tmp,/var/tmp). Ask your site admin.")
    return job_dir(scratch)


def _private(path):
    """Whether path is a directory of this user's that no one else may enter."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def log(message):
    print(f"unchained-singleuser: {message}", file=sys.stderr, flush=True)


def lmod_environment(module):
    """The environment after `module load MODULE` in a login shell. The name is
    checked and passed as an argument, never as shell text."""
    if not LMOD_MODULE.fullmatch(module):
        sys.exit(f"unchained-singleuser: {module!r} is not a module name like jupyter/2026.11")
    script = r"""module load "$1" 1>&2 || exit 3; printf '\0unchained-environment\0'; exec env -0"""
    result = subprocess.run(["/bin/bash", "-l", "-c", script, "unchained-lmod", module],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or ENV_MARKER not in result.stdout:
        sys.exit(f"unchained-singleuser: could not load the notebook environment (module load {module}):\n"
                 f"{result.stderr.strip()}\nAsk your site admin: the environment may not be published on this "
                 "worker, or its repository may not be mounted.")
    env = {}
    for item in result.stdout.rsplit(ENV_MARKER, 1)[1].split("\0"):
        name, sep, value = item.partition("=")
        if sep and name not in SHELL_VARIABLES:
            env[name] = value
    return env


def serve(args):
    """The job: wait for the hub's settings, run the server, relay the hub's
    API, obey `stop`."""
    if args.lmod:
        environment = lmod_environment(args.lmod)
        os.environ.clear()
        os.environ.update(environment)
        log(f"loaded {args.lmod}")
    os.umask(0o077)
    private = private_dir()
    os.makedirs(private, mode=0o700, exist_ok=True)
    os.chmod(private, 0o700)
    control_path, server_path = os.path.join(private, CONTROL_SOCKET), os.path.join(private, SERVER_SOCKET)
    files = os.path.abspath(args.files_dir)
    os.makedirs(files, mode=0o700, exist_ok=True)

    command = [*args.command, f"--ServerApp.sock={server_path}", "--ServerApp.sock_mode=0600",
               f"--ServerApp.root_dir={files}"]
    preloaded = None
    if args.preload:
        preloaded = subprocess.Popen(
            [sys.executable, "-m", "unchained_hub.singleuser", "preloaded",
             *[f"--module={m}" for m in args.preload], "--", *command],
            stdin=subprocess.PIPE, cwd=files)

    relay = HubApiRelay()
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    control.bind(control_path)
    control.listen(4)
    control.settimeout(args.wait_for_hub)
    log(f"waiting up to {args.wait_for_hub} s for the hub's settings")
    try:
        conn, request = _accept_start(control)
    except TimeoutError:
        if preloaded:
            preloaded.kill()
        sys.exit(f"unchained-singleuser: the hub did not connect within {args.wait_for_hub} s; "
                 "the spawn was probably cancelled. Start the server again from the hub.")
    relay.target = os.path.join(private, request["hub_api"])
    env = server_environment(dict(os.environ), request["env"], relay.port, files)
    if preloaded:
        server = preloaded
        server.stdin.write(json.dumps(env).encode())
        server.stdin.close()
    else:
        server = subprocess.Popen(command, env=env, cwd=files)
    stopping = None  # when the server was asked to stop (monotonic)

    def terminate(signum=signal.SIGTERM, _frame=None):
        nonlocal stopping
        stopping = stopping or time.monotonic()
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)

    # Before the answer: from then on the hub (or HTCondor) may stop us.
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    _reply(conn, {"socket": server_path})
    conn.close()
    log(f"started {args.command[0]} (pid {server.pid}) on {server_path}")
    control.settimeout(0.5)
    while server.poll() is None:
        if stopping and time.monotonic() - stopping > args.stop_timeout:
            # A server that does not end would keep the job running until
            # HTCondor's vacate time is over and it kills the job, files and
            # all: ended here, the job ends and its files go home.
            log(f"the server did not stop within {args.stop_timeout:g} s; killing it")
            server.kill()
            break
        try:
            conn, _ = control.accept()
        except (TimeoutError, InterruptedError):
            continue
        with conn:
            message = _read(conn)
            if message.get("op") == "stop":
                log("stop requested by the hub")
                _reply(conn, {"ok": True})
                terminate()
            elif message.get("op") == "start" and _valid_start(message) is None:
                # The hub reconnected: the server runs already; its API is
                # now at the new session's socket.
                relay.target = os.path.join(private, message["hub_api"])
                _reply(conn, {"socket": server_path})
            else:
                _reply(conn, {"error": "unknown request"})
    code = server.wait()
    control.close()
    for path in (control_path, server_path):
        if os.path.exists(path):
            os.unlink(path)
    if stopping:
        log("server stopped; HTCondor now brings the files back")
        return 0
    log(f"server exited with status {code}")
    return code


def server_environment(env, settings, relay_port, files):
    """The server's environment: the job's, the hub's settings, and what the
    job itself knows (its limits, where the hub's API is relayed)."""
    env.update(settings)
    # jupyterhub-singleuser takes its port from the service URL, and
    # jupyter_server refuses a socket together with any port but its default.
    # The server listens only on the socket; the URL's port means nothing.
    service = urllib.parse.urlsplit(env.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1/"))
    env["JUPYTERHUB_SERVICE_URL"] = service._replace(netloc=f"127.0.0.1:{JUPYTER_DEFAULT_PORT}").geturl()
    # The hub's API (and its activity URL) is reached through the session.
    api = urllib.parse.urlsplit(env.get("JUPYTERHUB_API_URL", ""))
    if api.netloc:
        origin, relayed = f"{api.scheme}://{api.netloc}/", f"http://127.0.0.1:{relay_port}/"
        for name, value in settings.items():
            if name.startswith("JUPYTERHUB_") and value.startswith(origin):
                env[name] = relayed + value[len(origin):]
    home = os.path.expanduser("~")
    env.setdefault("HOME", home if os.path.isdir(home) else files)
    # What the job asked for, as jupyter-resource-usage reads it: the status
    # bar shows usage against these limits.
    for name, value in job_limits(os.environ.get("_CONDOR_JOB_AD")).items():
        env.setdefault(name, value)
    return env


class HubApiRelay:
    """127.0.0.1:port in the job, relayed to the hub API's socket of the
    current session (the reverse forward of the hub's ssh). Any process on
    the worker may connect, as any could reach the hub's API port before;
    the hub's API still wants a token for everything."""

    def __init__(self):
        self.target = None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            client, _ = self._listener.accept()
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client):
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with client, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
            try:
                upstream.connect(self.target)
            except (OSError, TypeError):
                return  # no session: the server sees a closed connection and retries
            back = threading.Thread(target=_pipe, args=(upstream, client))
            back.start()
            _pipe(client, upstream)
            back.join()


def _pipe(source, sink):
    """Copy until the source ends, then end the sink's writing; on any error
    end both, so that the other direction does not wait forever."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def run_preloaded(args):
    """The server's process with --preload: import, wait for the settings
    (the whole environment, as JSON on stdin), then run the command."""
    for module in args.module:
        importlib.import_module(module)
    data = sys.stdin.read()
    if not data:
        return 1  # the launcher gave up waiting for the hub
    os.environ.clear()
    os.environ.update(json.loads(data))
    sys.argv = list(args.command)
    runpy.run_path(args.command[0], run_name="__main__")
    return 0


def job_limits(job_ad_path):
    """MEM_LIMIT (bytes) and CPU_LIMIT from the job's own ad, as far as known."""
    ad = {}
    try:
        with open(job_ad_path or "") as f:
            for line in f:
                key, sep, value = line.partition(" = ")
                if sep:
                    ad[key.strip()] = value.strip()
    except OSError:
        return {}
    limits = {}
    if re.fullmatch(r"[0-9]+", ad.get("RequestMemory", "")):
        limits["MEM_LIMIT"] = str(int(ad["RequestMemory"]) * 1024 * 1024)
    if re.fullmatch(r"[0-9]+", ad.get("RequestCpus", "")):
        limits["CPU_LIMIT"] = ad["RequestCpus"]
    return limits


def _accept_start(control):
    while True:
        conn, _ = control.accept()
        message = _read(conn)
        error = _valid_start(message)
        if error is None and not message["env"]:
            error = "the hub sent no settings; start the server again from the hub"
        if error is None:
            return conn, message
        _reply(conn, {"error": error})
        conn.close()


def _valid_start(message):
    """None if message is a start request the launcher takes, else why not."""
    if message.get("op") != "start" or not isinstance(message.get("env"), dict):
        return "expected a start request"
    if not isinstance(message.get("hub_api"), str) or not HUB_API_SOCKET.fullmatch(message["hub_api"]):
        # A name in the job's private directory, no path.
        return "the start request names no hub API socket"
    bad = [k for k, v in message["env"].items() if not ALLOWED_NAME.match(str(k)) or not isinstance(v, str)]
    if bad:
        return f"refused settings: {', '.join(map(str, bad))[:200]}"
    return None


def _read(conn, limit=1 << 20):
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            return {}
    try:
        message = json.loads(data)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def _reply(conn, message):
    conn.sendall(json.dumps(message).encode() + b"\n")


def _request(private, message, wait):
    """Send one request to the job's launcher (its control socket in the
    directory `private`), waiting for it to listen."""
    path = os.path.join(private, CONTROL_SOCKET)
    deadline = time.monotonic() + wait
    while True:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.connect(path)
                conn.sendall(json.dumps(message).encode() + b"\n")
                return _read(conn)
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                sys.exit(f"unchained-singleuser: the job's launcher is not listening on {path}")
            time.sleep(0.1)


def _answer(**message):
    print(ANSWER + json.dumps(message), flush=True)


def _listening(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
            return True
        except OSError:
            return False


def attach(args):
    """Run by the hub inside the job, for the life of its session: settings
    in, answers out (ANSWER lines: started, ready, then stopped or ended)."""
    line = sys.stdin.readline(1 << 20)
    try:
        request = json.loads(line)
    except ValueError:
        _answer(error="the hub's settings are not JSON")
        return 2
    if not isinstance(request, dict):
        request = {}
    private = private_dir()
    answer = _request(private, {"op": "start", "env": request.get("env"), "hub_api": request.get("hub_api")},
                      args.wait)
    if "socket" not in answer:
        _answer(error=answer.get("error", "the job's launcher did not answer"))
        return 1
    if not _same_directory(SESSION_DIR, private):
        # The hub's forwards would lead elsewhere than to this job's sockets.
        _answer(error=f"{SESSION_DIR} is not this job's own directory on this worker (HTCondor's "
                      "MOUNT_UNDER_SCRATCH = /tmp,/var/tmp); ask your site admin")
        return 1
    _answer(started=True)
    server_path, control_path = answer["socket"], os.path.join(private, CONTROL_SOCKET)
    deadline = time.monotonic() + args.ready_wait
    while not _listening(server_path):
        if time.monotonic() > deadline or not os.path.exists(control_path):
            _answer(error=f"the notebook server did not listen within {args.ready_wait:g} s; "
                          "its output is in the job's error file")
            return 1
        time.sleep(0.02)
    _answer(ready=True)
    # Hold the session: until the hub closes it, asks to stop, or the server ends.
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], 1.0)
        if readable:
            command = sys.stdin.readline(100).strip()
            if command == STOP:
                answer = _request(private, {"op": "stop"}, args.wait)
                _answer(stopped=bool(answer.get("ok")))
                return 0
            if not command:
                return 0  # the hub closed the session
        elif not stat.S_ISSOCK(_mode(server_path)):
            _answer(ended="the notebook server is no longer running")
            return 1


def _same_directory(a, b):
    try:
        one, other = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)


def _mode(path):
    try:
        return os.stat(path).st_mode
    except OSError:
        return 0


def stop(args):
    answer = _request(private_dir(), {"op": "stop"}, args.wait)
    if not answer.get("ok"):
        sys.exit(f"unchained-singleuser stop: {answer.get('error', 'no answer')}")
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["preloaded"]:
        parser = argparse.ArgumentParser(prog="unchained-singleuser preloaded")
        parser.add_argument("--module", action="append", default=[])
        parser.add_argument("command", nargs="+")
        return run_preloaded(parser.parse_args(argv[1:]))
    if argv[:1] in ([ATTACH], [STOP]):
        parser = argparse.ArgumentParser(prog=f"unchained-singleuser {argv[0]}")
        parser.add_argument("--wait", type=float, default=20,
                            help="seconds to wait for the job's launcher to listen")
        parser.add_argument("--ready-wait", type=float, default=300,
                            help="seconds to wait for the notebook server to listen (attach)")
        args = parser.parse_args(argv[1:])
        return attach(args) if argv[0] == ATTACH else stop(args)
    parser = argparse.ArgumentParser(prog="unchained-singleuser", description=__doc__.split("\n\n")[0])
    parser.add_argument("--files-dir", required=True, help="the user's files, relative to the job's directory")
    parser.add_argument("--stop-timeout", type=float, default=30,
                        help="seconds the server may take to stop before it is killed (files still go home); "
                             "well under the workers' MachineMaxVacateTime (HTCondor's default: 600)")
    parser.add_argument("--wait-for-hub", type=float, default=600,
                        help="seconds to wait for the hub's settings before giving up")
    parser.add_argument("--preload", action="append", default=[], metavar="MODULE",
                        help="import MODULE in the server's process before the settings arrive")
    parser.add_argument("--lmod", metavar="NAME/VERSION",
                        help="load this Lmod module (in a login shell) and run in its environment")
    parser.add_argument("command", nargs="+", help="the notebook server command, after --")
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
