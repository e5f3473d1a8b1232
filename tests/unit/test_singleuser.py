"""The job's side: settings arrive over a private socket, never in argv or the environment
the job started with; the server listens on a socket in a 0700 directory; stop ends it cleanly."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

HUB = str(Path(__file__).resolve().parents[2] / "hub")

# Stands in for jupyterhub-singleuser: serves its environment as JSON on --ServerApp.sock.
FAKE_SERVER = textwrap.dedent("""
    import http.server, json, os, socketserver, sys
    path = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--ServerApp.sock=")][0]
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"env": dict(os.environ), "argv": sys.argv, "cwd": os.getcwd()}).encode()
            self.send_response(200); self.end_headers(); self.wfile.write(body)
        def log_message(self, *a): pass
    class S(socketserver.UnixStreamServer):
        def get_request(self):
            conn, _ = super().get_request(); return conn, ("local", 0)
    S(path, H).serve_forever()
""")


def launcher(scratch, *args, stdin=None):
    env = {**os.environ, "_CONDOR_SCRATCH_DIR": str(scratch), "PYTHONPATH": HUB}
    return subprocess.run([sys.executable, "-m", "unchained_hub.singleuser", *args], env=env, cwd=scratch,
                          input=stdin, capture_output=True, text=True, timeout=30)


def get(sock_path):
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(sock_path)
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
            return json.loads(data.split(b"\r\n\r\n", 1)[1])
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(params=["plain", "preloaded"])
def job(tmp_path, request):
    """A launcher as HTCondor would start it, with the fake server; in the
    preloaded variant the server's process starts before the settings arrive."""
    server = tmp_path / "fake_server.py"
    server.write_text(FAKE_SERVER)
    (tmp_path / ".job.ad").write_text('ClusterId = 7\nRequestCpus = 2\nRequestMemory = 512\nOwner = "alice"\n')
    env = {**os.environ, "_CONDOR_SCRATCH_DIR": str(tmp_path), "PYTHONPATH": HUB,
           "_CONDOR_JOB_AD": str(tmp_path / ".job.ad")}
    if request.param == "plain":
        command = ["--", sys.executable, str(server)]
    else:
        command = ["--preload=http.server", "--", str(server)]
    proc = subprocess.Popen([sys.executable, "-m", "unchained_hub.singleuser", "--files-dir", "jupyter",
                             *command], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    yield tmp_path, proc
    # The whole process group, as HTCondor's starter would: the launcher's
    # server would outlive a kill of the launcher alone.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def test_settings_through_private_socket_then_stop(job):
    scratch, proc = job
    answer = launcher(scratch, "receive", stdin=json.dumps({"JUPYTERHUB_API_TOKEN": "s3cret",
                                                            "JUPYTERHUB_USER": "alice"}))
    assert answer.returncode == 0, answer.stderr
    sock = answer.stdout.strip()
    assert sock == str(scratch / ".unchained" / "jupyter.sock")
    assert stat.S_IMODE(os.stat(scratch / ".unchained").st_mode) == 0o700
    seen = get(sock)
    assert seen["env"]["JUPYTERHUB_API_TOKEN"] == "s3cret"
    assert not any("s3cret" in a for a in seen["argv"])
    assert seen["cwd"] == str(scratch / "jupyter")
    # The job's request, for jupyter-resource-usage.
    assert seen["env"]["MEM_LIMIT"] == str(512 * 1024 * 1024) and seen["env"]["CPU_LIMIT"] == "2"
    assert f"--ServerApp.root_dir={scratch / 'jupyter'}" in seen["argv"]
    # The token is nowhere on disk.
    for path in scratch.rglob("*"):
        if path.is_file():
            assert b"s3cret" not in path.read_bytes(), path

    stopped = launcher(scratch, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert proc.wait(timeout=20) == 0
    assert not (scratch / ".unchained" / "control.sock").exists()


def test_refuses_settings_that_are_not_environment_variables(job):
    scratch, proc = job
    bad = launcher(scratch, "receive", stdin=json.dumps({"A B": "x"}))
    assert bad.returncode != 0 and "refused settings: A B" in bad.stderr
    good = launcher(scratch, "receive", stdin=json.dumps({"JUPYTERHUB_USER": "alice"}))
    assert good.returncode == 0, good.stderr


def test_sigterm_stops_server_and_exits(job):
    scratch, proc = job
    assert launcher(scratch, "receive", stdin="{}").returncode == 0
    proc.terminate()
    assert proc.wait(timeout=20) == 0


def test_receive_without_a_job_says_so(tmp_path):
    result = launcher(tmp_path, "receive", "--wait", "0.2", stdin="{}")
    assert result.returncode != 0 and "is not listening" in result.stderr
