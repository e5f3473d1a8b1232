"""The job's side: settings arrive through the hub's session, never in argv or the
environment the job started with; the server listens on a socket in a 0700 directory; the
hub's API is relayed to the session; stop ends it cleanly."""

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
import urllib.request
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


# The launcher, with the directory the hub's session sees (in a job: /tmp,
# which HTCondor mounts from the scratch directory's tmp/) set to the test's.
RUN = """
import sys
from unchained_hub import singleuser as s
s.SESSION_DIR = sys.argv.pop(1)
sys.exit(s.main(sys.argv[1:]))
"""


def job_dir(scratch):
    return str(scratch / "tmp" / ".unchained")


def launcher_argv(scratch, *args):
    return [sys.executable, "-c", RUN, job_dir(scratch), *args]


def job_env(scratch):
    return {**os.environ, "_CONDOR_SCRATCH_DIR": str(scratch), "PYTHONPATH": HUB,
            "_CONDOR_JOB_AD": str(scratch / ".job.ad")}


def launcher(scratch, *args, stdin=None):
    return subprocess.run(launcher_argv(scratch, *args), env=job_env(scratch), cwd=scratch,
                          input=stdin, capture_output=True, text=True, timeout=30)


class Attached:
    """`unchained-singleuser attach` as the hub's session runs it."""

    # Sessions a test opened, ended by the `job` fixture: a session whose
    # server never listened would otherwise wait out --ready-wait (300 s).
    opened = []

    def __init__(self, scratch, settings, hub_api=None):
        self.hub_api = hub_api or f"hub-api-{os.urandom(8).hex()}.sock"
        Attached.opened.append(self)
        self.proc = subprocess.Popen(launcher_argv(scratch, "attach"), env=job_env(scratch), cwd=scratch,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.send(json.dumps({"env": settings, "hub_api": self.hub_api}))

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def answer(self):
        line = self.proc.stdout.readline()
        assert line.startswith("unchained-answer "), (line, self.proc.stderr.read() if not line else "")
        return json.loads(line.split(" ", 1)[1])

    def close(self):
        self.proc.stdin.close()
        return self.proc.wait(timeout=10)


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
    (tmp_path / "tmp").mkdir(mode=0o700)
    if request.param == "plain":
        command = ["--", sys.executable, str(server)]
    else:
        command = ["--preload=http.server", "--", str(server)]
    proc = subprocess.Popen(launcher_argv(tmp_path, "--files-dir", "jupyter", *command), env=job_env(tmp_path),
                            cwd=tmp_path, stderr=subprocess.PIPE, text=True, start_new_session=True)
    yield tmp_path, proc
    # The whole process group, as HTCondor's starter would: the launcher's
    # server would outlive a kill of the launcher alone.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    while Attached.opened:
        session = Attached.opened.pop().proc
        if session.poll() is None:
            session.kill()
        session.wait()


SETTINGS = {"JUPYTERHUB_API_TOKEN": "s3cret", "JUPYTERHUB_USER": "alice",
            "JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api",
            "JUPYTERHUB_ACTIVITY_URL": "http://127.0.0.1:8081/hub/api/users/alice/activity"}


def hub_api_stand_in(path):
    """Listens where ssh's reverse forward would, answering one HTTP request."""
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()

    def serve():
        conn, _ = server.accept()
        request = conn.recv(65536)
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + request.split(b"\r\n")[0])
        conn.close()
    threading.Thread(target=serve, daemon=True).start()
    return server


def test_settings_through_the_session_then_stop(job):
    scratch, proc = job
    session = Attached(scratch, SETTINGS)
    assert session.answer() == {"started": True}
    assert session.answer() == {"ready": True}
    sock = str(scratch / "tmp" / ".unchained" / "jupyter.sock")
    assert stat.S_IMODE(os.stat(job_dir(scratch)).st_mode) == 0o700
    seen = get(sock)
    assert seen["env"]["JUPYTERHUB_API_TOKEN"] == "s3cret"
    assert not any("s3cret" in a for a in seen["argv"])
    assert seen["cwd"] == str(scratch / "jupyter")
    # The job's request, for jupyter-resource-usage.
    assert seen["env"]["MEM_LIMIT"] == str(512 * 1024 * 1024) and seen["env"]["CPU_LIMIT"] == "2"
    assert f"--ServerApp.root_dir={scratch / 'jupyter'}" in seen["argv"]
    # The hub's API is relayed to the session's reverse forward.
    api = urllib.parse.urlsplit(seen["env"]["JUPYTERHUB_API_URL"])
    assert api.hostname == "127.0.0.1" and api.port != 8081 and api.path == "/hub/api"
    assert seen["env"]["JUPYTERHUB_ACTIVITY_URL"] == f"http://127.0.0.1:{api.port}/hub/api/users/alice/activity"
    stand_in = hub_api_stand_in(os.path.join(job_dir(scratch), session.hub_api))
    with urllib.request.urlopen(seen["env"]["JUPYTERHUB_API_URL"] + "/user", timeout=5) as reply:
        assert reply.read() == b"GET /hub/api/user HTTP/1.1"
    stand_in.close()
    # The token is nowhere on disk.
    for path in scratch.rglob("*"):
        if path.is_file():
            assert b"s3cret" not in path.read_bytes(), path

    session.send("stop")
    assert session.answer() == {"stopped": True}
    assert session.close() == 0
    assert proc.wait(timeout=20) == 0
    assert not os.path.exists(job_dir(scratch) + "/control.sock")


def test_a_second_session_finds_the_server_running(job):
    scratch, proc = job
    first = Attached(scratch, SETTINGS)
    assert [first.answer(), first.answer()] == [{"started": True}, {"ready": True}]
    assert first.close() == 0  # the hub closed the session: the server runs on
    second = Attached(scratch, {})
    assert [second.answer(), second.answer()] == [{"started": True}, {"ready": True}]
    # The relay now goes to the second session's socket.
    stand_in = hub_api_stand_in(os.path.join(job_dir(scratch), second.hub_api))
    api_url = get(job_dir(scratch) + "/jupyter.sock")["env"]["JUPYTERHUB_API_URL"]
    with urllib.request.urlopen(api_url, timeout=5) as reply:
        assert reply.status == 200
    stand_in.close()
    assert second.close() == 0
    assert proc.poll() is None


def test_a_first_session_without_settings_is_refused(job):
    scratch, _ = job
    session = Attached(scratch, {})
    assert "start the server again" in session.answer()["error"]


def test_refuses_settings_that_are_not_environment_variables(job):
    scratch, proc = job
    bad = Attached(scratch, {"A B": "x"})
    assert bad.answer() == {"error": "refused settings: A B"}
    assert bad.proc.wait(timeout=10) != 0
    good = Attached(scratch, SETTINGS)
    assert good.answer() == {"started": True}


def test_the_server_ending_ends_the_session(job):
    scratch, proc = job
    session = Attached(scratch, SETTINGS)
    assert [session.answer(), session.answer()] == [{"started": True}, {"ready": True}]
    proc.terminate()
    assert session.answer() == {"ended": "the notebook server is no longer running"}


def test_sigterm_stops_server_and_exits(job):
    scratch, proc = job
    session = Attached(scratch, SETTINGS)
    assert session.answer() == {"started": True}
    proc.terminate()
    assert proc.wait(timeout=20) == 0


def test_attach_without_a_job_says_so(tmp_path):
    (tmp_path / "tmp").mkdir(mode=0o700)
    result = launcher(tmp_path, "stop", "--wait", "0.2")
    assert result.returncode != 0 and "is not listening" in result.stderr


@pytest.mark.parametrize("mode", [0o1777, None])
def test_a_job_without_a_private_tmp_is_refused(tmp_path, mode):
    # A scratch directory others may enter, holding a tmp/ anyone may use, or none.
    tmp_path.chmod(0o755)
    if mode is not None:
        (tmp_path / "tmp").mkdir()
        (tmp_path / "tmp").chmod(mode)
    result = subprocess.run(launcher_argv(tmp_path, "--files-dir", "jupyter", "--", "/bin/true"),
                            env=job_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "this worker gives jobs no private /tmp" in result.stderr
    assert "MOUNT_UNDER_SCRATCH" in result.stderr


def test_a_shared_tmp_in_a_private_scratch_directory_is_private(tmp_path):
    # What Apptainer makes for a drone's unprivileged starter (-S /tmp -W scratch).
    tmp_path.chmod(0o700)
    (tmp_path / "tmp").mkdir()
    (tmp_path / "tmp").chmod(0o1777)
    proc = subprocess.Popen(launcher_argv(tmp_path, "--files-dir", "jupyter", "--", "/bin/true"),
                            env=job_env(tmp_path), cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        assert "waiting up to" in proc.stderr.readline()
        assert stat.S_IMODE(os.stat(job_dir(tmp_path)).st_mode) == 0o700
    finally:
        proc.kill()
        proc.wait()


def test_a_session_that_would_reach_another_directory_is_refused(job):
    scratch, _ = job
    other = scratch / "elsewhere"
    other.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(other), "attach"], env=job_env(scratch), cwd=scratch,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(json.dumps({"env": SETTINGS, "hub_api": "hub-api-0123456789abcdef.sock"}) + "\n",
                              timeout=20)
    assert "is not this job's own directory" in out and proc.returncode == 1


def test_a_server_that_ignores_sigterm_is_killed_after_the_stop_timeout(tmp_path):
    """Else the job would run until HTCondor's vacate time ends and it kills
    the job without bringing its files home."""
    server = tmp_path / "stubborn_server.py"
    server.write_text("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + FAKE_SERVER)
    (tmp_path / ".job.ad").write_text('ClusterId = 7\nRequestCpus = 1\nRequestMemory = 512\nOwner = "alice"\n')
    (tmp_path / "tmp").mkdir(mode=0o700)
    proc = subprocess.Popen(launcher_argv(tmp_path, "--files-dir", "jupyter", "--stop-timeout", "1", "--",
                                          sys.executable, str(server)),
                            env=job_env(tmp_path), cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        session = Attached(tmp_path, SETTINGS)
        assert [session.answer(), session.answer()] == [{"started": True}, {"ready": True}]
        t0 = time.monotonic()
        proc.terminate()
        assert proc.wait(timeout=20) == 0
        assert 1 <= time.monotonic() - t0 < 10
        assert "did not stop within 1 s; killing it" in proc.stderr.read()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
