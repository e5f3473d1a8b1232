"""`python -m unchained_hub.tunnel`, the process condor_ssh_to_job runs in
place of ssh, against a stand-in ssh that serves the forward's Unix socket.
The real ssh and condor_ssh_to_job are exercised by the lab (test_hub.py)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from unchained_hub.tunnel import free_port

HUB_DIR = Path(__file__).resolve().parents[2] / "hub"

# Serves -L LOCAL:REMOTE's LOCAL: echoes what it reads after a first line
# naming REMOTE. FAKE_SSH=fail: exits 255 before listening, as ssh does when
# it cannot connect.
FAKE_SSH = r'''#!/usr/bin/env python3
import os, socket, sys, threading
if os.environ.get("FAKE_SSH") == "fail":
    print("ssh: connect to host condor-job: Connection refused", file=sys.stderr)
    sys.exit(255)
local, remote = sys.argv[sys.argv.index("-L") + 1].split(":", 1)
server = socket.socket(socket.AF_UNIX)
server.bind(local)
server.listen()
def serve(conn):
    conn.sendall(f"remote={remote}\n".encode())
    while data := conn.recv(65536):
        conn.sendall(data)
    conn.close()
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
'''


@pytest.fixture
def fake_ssh(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text(FAKE_SSH)
    (bin_dir / "ssh").chmod(0o755)
    return bin_dir


def start(fake_ssh, port, *, mode="serve", socket_path="/job/.unchained/jupyter.sock"):
    env = {**os.environ, "PATH": f"{fake_ssh}:{os.environ['PATH']}", "PYTHONPATH": str(HUB_DIR),
           "FAKE_SSH": mode, "TMPDIR": str(fake_ssh.parent)}
    return subprocess.Popen([sys.executable, "-m", "unchained_hub.tunnel", str(port), socket_path,
                             "-oUser=alice", "condor-job.ex1"],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def connect(port, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=5)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def read_line(conn):
    data = b""
    while not data.endswith(b"\n"):
        data += conn.recv(1)
    return data


def test_relays_to_the_forward_until_stdin_closes(fake_ssh):
    port = free_port()
    proc = start(fake_ssh, port)
    try:
        with connect(port) as conn:
            assert read_line(conn) == b"remote=/job/.unchained/jupyter.sock\n"
            payload = os.urandom(3 << 20)
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)
            received = b""
            while chunk := conn.recv(1 << 16):
                received += chunk
            assert received == payload  # both directions, and the half-close passed on
        # The forward's directory is private and named after the port.
        (forward_dir,) = fake_ssh.parent.glob(f"unchained-tunnel-{port}-*")
        assert forward_dir.stat().st_mode & 0o077 == 0
        proc.stdin.close()
        assert proc.wait(10) == 1  # ssh killed: the forward ended
        assert not forward_dir.exists()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
    finally:
        proc.kill()


def test_a_failed_ssh_never_listens_and_says_why(fake_ssh):
    port = free_port()
    proc = start(fake_ssh, port, mode="fail")
    assert proc.wait(10) == 255
    assert b"Connection refused" in proc.stderr.read()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_a_taken_port_ends_the_tunnel(fake_ssh):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = start(fake_ssh, port)
        assert proc.wait(10) == 1
        assert f"cannot listen on 127.0.0.1:{port}".encode() in proc.stderr.read()


@pytest.mark.parametrize("args", [["x", "/s"], ["4000", "relative.sock"]])
def test_refuses_arguments_it_did_not_make(fake_ssh, args):
    proc = start(fake_ssh, *args[:1], socket_path=args[1])
    assert proc.wait(10) == 1
    assert b"usage:" in proc.stderr.read()
