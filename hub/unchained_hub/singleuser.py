"""`unchained-singleuser`: the job's side of the spawner.

The job starts as

    unchained-singleuser --files-dir jupyter -- jupyterhub-singleuser [ARGS]

and waits. Nothing secret is in the job's ClassAd, arguments or environment:
the hub sends the notebook server's settings (its API token among them)
through `condor_ssh_to_job`, which runs `unchained-singleuser receive` inside
the job with the settings on standard input. `receive` hands them over a
Unix socket in a private (0700) directory of the job's scratch space, and
prints the path of the socket the notebook server will listen on, which is
all the hub needs to learn from the job. No hub API is involved.

`unchained-singleuser stop` (also run through `condor_ssh_to_job`) stops the
server gracefully, so the job ends by itself and HTCondor brings the files
back; a plain `condor_rm` would discard them.

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
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

from .contract import CONTROL_SOCKET, LMOD_MODULE, PRIVATE_DIR, RECEIVE, SERVER_SOCKET, STOP

JUPYTER_DEFAULT_PORT = 8888
# Settings the hub may send: environment variables, by name.
ALLOWED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Printed before the environment, so that whatever a login profile prints is told apart.
ENV_MARKER = "\0unchained-environment\0"
# Set by the shell that loads the module, not part of the environment it gives.
SHELL_VARIABLES = {"_", "SHLVL", "PWD", "OLDPWD"}


def private_dir():
    scratch = os.environ.get("_CONDOR_SCRATCH_DIR")
    if not scratch:
        sys.exit("unchained-singleuser: _CONDOR_SCRATCH_DIR is not set; run me as an HTCondor job")
    return os.path.join(scratch, PRIVATE_DIR)


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
    """The job: wait for the hub's settings, run the server, obey `stop`."""
    if args.lmod:
        environment = lmod_environment(args.lmod)
        os.environ.clear()
        os.environ.update(environment)
        log(f"loaded {args.lmod}")
    os.umask(0o077)
    private = private_dir()
    os.makedirs(private, mode=0o700, exist_ok=True)
    os.chmod(private, 0o700)
    files = os.path.abspath(args.files_dir)
    os.makedirs(files, mode=0o700, exist_ok=True)
    control_path = os.path.join(private, CONTROL_SOCKET)
    server_path = os.path.join(private, SERVER_SOCKET)

    command = [*args.command, f"--ServerApp.sock={server_path}", "--ServerApp.sock_mode=0600",
               f"--ServerApp.root_dir={files}"]
    preloaded = None
    if args.preload:
        preloaded = subprocess.Popen(
            [sys.executable, "-m", "unchained_hub.singleuser", "preloaded",
             *[f"--module={m}" for m in args.preload], "--", *command],
            stdin=subprocess.PIPE, cwd=files)

    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    control.bind(control_path)
    control.listen(4)
    control.settimeout(args.wait_for_hub)
    log(f"waiting up to {args.wait_for_hub} s for the hub's settings")
    try:
        conn, settings = _accept_start(control)
    except TimeoutError:
        if preloaded:
            preloaded.kill()
        sys.exit(f"unchained-singleuser: the hub did not connect within {args.wait_for_hub} s; "
                 "the spawn was probably cancelled. Start the server again from the hub.")

    env = dict(os.environ)
    env.update(settings)
    # jupyterhub-singleuser takes its port from the service URL, and
    # jupyter_server refuses a socket together with any port but its default.
    # The server listens only on the socket; the URL's port means nothing.
    service = urllib.parse.urlsplit(env.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1/"))
    env["JUPYTERHUB_SERVICE_URL"] = service._replace(netloc=f"127.0.0.1:{JUPYTER_DEFAULT_PORT}").geturl()
    home = os.path.expanduser("~")
    env.setdefault("HOME", home if os.path.isdir(home) else files)
    # What the job asked for, as jupyter-resource-usage reads it: the status
    # bar shows usage against these limits.
    for name, value in job_limits(os.environ.get("_CONDOR_JOB_AD")).items():
        env.setdefault(name, value)
    if preloaded:
        server = preloaded
        server.stdin.write(json.dumps(env).encode())
        server.stdin.close()
    else:
        server = subprocess.Popen(command, env=env, cwd=files)
    _reply(conn, {"socket": server_path})
    log(f"started {args.command[0]} (pid {server.pid}) on {server_path}")

    stopping = False

    def terminate(signum=signal.SIGTERM, _frame=None):
        nonlocal stopping
        stopping = True
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    control.settimeout(0.5)
    while server.poll() is None:
        try:
            conn, _ = control.accept()
        except TimeoutError:
            continue
        except InterruptedError:
            continue
        with conn:
            message = _read(conn)
            if message.get("op") == "stop":
                log("stop requested by the hub")
                _reply(conn, {"ok": True})
                terminate()
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
        if message.get("op") != "start" or not isinstance(message.get("env"), dict):
            _reply(conn, {"error": "expected a start request"})
            conn.close()
            continue
        env = message["env"]
        bad = [k for k, v in env.items() if not ALLOWED_NAME.match(str(k)) or not isinstance(v, str)]
        if bad:
            _reply(conn, {"error": f"refused settings: {', '.join(map(str, bad))[:200]}"})
            conn.close()
            continue
        return conn, env


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


def _request(message, wait):
    """Send one request to the job's launcher, waiting for it to listen."""
    path = os.path.join(private_dir(), CONTROL_SOCKET)
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


def receive(args):
    """Run by the hub inside the job: settings on stdin, socket path out."""
    try:
        env = json.loads(sys.stdin.read())
    except ValueError:
        sys.exit("unchained-singleuser receive: standard input is not JSON")
    answer = _request({"op": "start", "env": env}, args.wait)
    if "socket" not in answer:
        sys.exit(f"unchained-singleuser receive: {answer.get('error', 'no answer')}")
    print(answer["socket"])
    return 0


def stop(args):
    answer = _request({"op": "stop"}, args.wait)
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
    if argv[:1] in ([RECEIVE], [STOP]):
        parser = argparse.ArgumentParser(prog=f"unchained-singleuser {argv[0]}")
        parser.add_argument("--wait", type=float, default=20,
                            help="seconds to wait for the job's launcher to listen")
        args = parser.parse_args(argv[1:])
        return receive(args) if argv[0] == RECEIVE else stop(args)
    parser = argparse.ArgumentParser(prog="unchained-singleuser", description=__doc__.split("\n\n")[0])
    parser.add_argument("--files-dir", required=True, help="the user's files, relative to the job's directory")
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
