"""Reach a job's servers from the submit host through condor_ssh_to_job.

Usage: python3 - JOBID REMOTE_PORT < tunnel_check.py   (as the job's owner)
Opens one tunnel with two forwards (local TCP -> job's TCP port, local Unix
socket -> job's Unix socket), makes one HTTP request over each and prints
the two answers, one per line, prefixed with tcp: and unix:.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def ssh_to_job(job, *command):
    # For a moment after a job starts, its starter is not yet known to the
    # schedd ("Failed to read address of starter"); retry for a while.
    deadline = time.monotonic() + 30
    while True:
        result = subprocess.run(["condor_ssh_to_job", job, *command], capture_output=True, text=True)
        if result.returncode == 0 or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def request(connect, tunnel):
    deadline = time.monotonic() + 20
    while True:
        if tunnel.poll() is not None:
            raise SystemExit(f"the tunnel exited with status {tunnel.returncode}")
        try:
            sock = connect()
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
            sock.close()
            if data:
                return data.decode().split("\r\n\r\n", 1)[1].strip()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("no answer through the tunnel within 20 s")
        time.sleep(0.2)


# The same as unchained_hub.tunnel.free_port: this script runs alone, on the hub
# with the system's python3 (which has not our package), so it cannot import it.
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    job, remote_port = sys.argv[1], int(sys.argv[2])
    pwd = ssh_to_job(job, "pwd")
    if pwd.returncode != 0:
        raise SystemExit(f"condor_ssh_to_job {job} pwd failed: {pwd.stdout}{pwd.stderr}")
    scratch = pwd.stdout.strip().splitlines()[-1]
    local_port = free_port()
    local_sock = os.path.join(tempfile.mkdtemp(), "tunnel.sock")
    ssh = ("ssh -oExitOnForwardFailure=yes -oStreamLocalBindUnlink=yes -N"
           f" -L 127.0.0.1:{local_port}:127.0.0.1:{remote_port}"
           f" -L {local_sock}:{scratch}/server.sock")
    # Its own process group, so that ending it also ends the ssh it starts,
    # which would otherwise keep our output open after we exit.
    tunnel = subprocess.Popen(["condor_ssh_to_job", "-ssh", ssh, job], start_new_session=True,
                              stdout=subprocess.DEVNULL)
    try:
        def tcp():
            return socket.create_connection(("127.0.0.1", local_port), timeout=5)

        def unix():
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(5)
            s.connect(local_sock)
            return s

        print("tcp:", request(tcp, tunnel))
        print("unix:", request(unix, tunnel))
    finally:
        os.killpg(tunnel.pid, signal.SIGTERM)
        tunnel.wait(timeout=10)


if __name__ == "__main__":
    main()
