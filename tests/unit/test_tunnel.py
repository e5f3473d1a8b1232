"""The tunnel's session logic against a stand-in for `sudo condor_ssh_to_job`:
the settings go in once, answers come out, the endpoint is checked before it
is used, lost sessions come back, slots are not held for long. The real
sudo, condor_ssh_to_job, ssh and `attach` are exercised by the lab."""

import asyncio
import json
import logging
import os
import socket
import struct
import sys
import time
import tracemalloc

import pytest
from unchained_hub import condor, contract, tunnel
from unchained_hub.condor import UserCondor

# Stands in for `sudo ... condor_ssh_to_job -ssh WORDS JOB LAUNCHER attach`:
# records the settings it was sent, answers as `attach` does, and listens on
# the -L endpoint with a one-line HTTP server. FAKE_MODE picks a misbehaviour.
FAKE = r'''#!PYTHON
import json, os, socket, sys, threading, time
mode = os.environ["FAKE_MODE"]
words = sys.argv[sys.argv.index("-ssh") + 1].split()
endpoint = words[words.index("-L") + 1].split(":")[0]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(sys.stdin.readline())
if mode == "fail":
    print("Failed to read address of starter for this job", file=sys.stderr)
    sys.exit(1)
if mode == "silent":
    time.sleep(60)
if mode in ("noisy", "one-long-line"):  # a login shell's start-up files that print 100 MB
    chunk = "noise " * 100 + "\n" if mode == "noisy" else "x" * 65536
    for _ in range(100 * 1024 * 1024 // len(chunk)):
        sys.stdout.write(chunk)
ANSWER = "unchained-answer "
print(ANSWER + json.dumps({"started": True}), flush=True)
if mode != "squatted":
    if os.path.exists(endpoint):
        os.unlink(endpoint)
    server = socket.socket(socket.AF_UNIX)
    server.bind(endpoint)
    server.listen()
    def serve():
        while True:
            conn, _ = server.accept()
            try:
                if conn.recv(1024):
                    conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + sys.argv[sys.argv.index("-ssh") + 2].encode())
            except OSError:
                pass
            conn.close()
    threading.Thread(target=serve, daemon=True).start()
print("a login shell's greeting, which the hub ignores", flush=True)
print(ANSWER + json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    if line.strip() == "stop":
        print(ANSWER + json.dumps({"stopped": True}), flush=True)
        break
'''


@pytest.fixture
def fake(tmp_path, monkeypatch):
    sudo = tmp_path / "sudo"
    sudo.write_text(FAKE.replace("PYTHON", sys.executable))
    sudo.chmod(0o755)
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "sent.log"))
    monkeypatch.setenv("FAKE_MODE", "serve")
    monkeypatch.setattr(condor, "_schedd_commands", asyncio.Semaphore(condor.SCHEDD_COMMANDS_AT_ONCE))
    return tmp_path


def make(fake, *, running=True, cluster=42, **settings):
    endpoint = str(fake / f"job-{cluster}.sock")

    async def job_running():
        return running

    options = dict(connect_timeout=3, ready_timeout=3, probe_interval=0.1, probe_timeout=0.5, slot_hold=0.5)
    options.update(settings)
    return tunnel.Tunnel(
        UserCondor("alice", sudo=str(fake / "sudo")), cluster, launcher="/env/bin/unchained-singleuser",
        endpoint=endpoint, uid=os.getuid(), settings={"JUPYTERHUB_API_TOKEN": "s3cret"}, hub_api="127.0.0.1:8081",
        log=logging.getLogger("test"), job_running=job_running, probe_path="/user/alice/api",
        python=sys.executable, **options)


def sent(fake):
    return [json.loads(line) for line in (fake / "sent.log").read_text().splitlines()]


def session_count(fake):
    return sum(1 for pid in os.listdir("/proc") if pid.isdigit() and _is_fake(pid, fake))


def _is_fake(pid, fake):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return str(fake / "sudo").encode() in f.read()
    except OSError:
        return False


def test_open_sends_the_settings_once_and_answers(fake):
    async def scenario():
        t = make(fake)
        await t.open()
        assert await t.answers()
        await t.close()
    asyncio.run(scenario())
    (first,) = sent(fake)
    assert first["env"] == {"JUPYTERHUB_API_TOKEN": "s3cret"}
    assert contract.HUB_API_SOCKET.fullmatch(first["hub_api"])
    assert session_count(fake) == 0


def test_a_lost_session_comes_back_without_the_settings(fake):
    async def scenario():
        t = make(fake)
        await t.open()
        assert await t.answers()
        os.kill(t._proc.pid, 9)  # the session dies (worker lost, ssh killed)
        for _ in range(50):
            await asyncio.sleep(0.1)
            if len(sent(fake)) == 2 and await t.answers():
                break
        await t.close()
    asyncio.run(scenario())
    first, second = sent(fake)
    assert second["env"] == {} and second["hub_api"] != first["hub_api"]


def test_a_tunnel_that_cannot_be_reopened_at_once_keeps_trying(fake):
    async def scenario():
        t = make(fake, connect_timeout=1)
        await t.open()
        os.environ["FAKE_MODE"] = "fail"  # the worker is unreachable for a while
        os.kill(t._proc.pid, 9)
        for _ in range(50):
            await asyncio.sleep(0.1)
            if len(sent(fake)) >= 3:
                break
        os.environ["FAKE_MODE"] = "serve"
        for _ in range(100):
            await asyncio.sleep(0.1)
            if await t.answers():
                break
        assert await t.answers()
        await t.close()
    asyncio.run(scenario())
    assert len(sent(fake)) >= 4  # the first session, failed tries, the one that worked


def test_a_tunnel_that_stays_lost_while_the_job_runs_gives_up_and_says_so(fake):
    lost = []

    async def scenario():
        t = make(fake, connect_timeout=5, lost_after=1.0, on_lost=lambda: lost.append(True))
        await t.open()
        os.environ["FAKE_MODE"] = "silent"  # the worker stopped answering: sessions hang
        os.kill(t._proc.pid, 9)
        started = time.monotonic()
        while t.kept and time.monotonic() - started < 5:
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        assert t.lost and lost == [True] and not t.kept
        await t.close()
        return elapsed
    # Given up after lost_after, although each try could hang for connect_timeout.
    assert 0.9 < asyncio.run(scenario()) < 2.5
    # The hung session is left to its user (tunnel._reap); here it is ours to end.
    for pid in os.listdir("/proc"):
        if pid.isdigit() and _is_fake(pid, fake):
            os.kill(int(pid), 9)


def test_a_session_whose_job_ended_is_not_reopened(fake):
    async def scenario():
        t = make(fake, running=False)
        await t.open()
        os.kill(t._proc.pid, 9)
        await asyncio.sleep(1)
        assert len(sent(fake)) == 1
        await t.close()
    asyncio.run(scenario())


def test_an_endpoint_another_process_listens_on_is_refused(fake):
    os.environ["FAKE_MODE"] = "squatted"
    squatter = socket.socket(socket.AF_UNIX)
    squatter.bind(str(fake / "job-42.sock"))
    squatter.listen()

    async def scenario():
        with pytest.raises(tunnel.TunnelError, match="not this tunnel's"):
            await make(fake, connect_timeout=0.5).open()
    asyncio.run(scenario())
    squatter.close()


def test_a_failing_session_says_why_after_its_deadline(fake):
    os.environ["FAKE_MODE"] = "fail"

    async def scenario():
        with pytest.raises(tunnel.TunnelError, match="Failed to read address of starter"):
            await make(fake, connect_timeout=1).open()
    asyncio.run(scenario())
    assert len(sent(fake)) >= 2  # it retried


@pytest.mark.parametrize("mode", ["noisy", "one-long-line"])
def test_a_session_that_prints_100_mb_fails_at_the_cap_and_says_why(fake, mode):
    """What a session prints besides the launcher's answers is read up to
    MAX_NOISE, and a line up to the stream's 64 KiB: the hub's memory does
    not grow with it, and the user learns what to change."""
    os.environ["FAKE_MODE"] = mode

    async def scenario():
        with pytest.raises(tunnel.TunnelError, match=r"the session printed more than 64 KiB that was not an answer.*"
                                                     r"Your shell's start-up files \(~/.bashrc, ~/.profile\) run in "
                                                     r"the job: make them print nothing"):
            await make(fake, connect_timeout=0.5).open()
    tracemalloc.start()
    try:
        asyncio.run(scenario())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024, peak


def test_a_silent_session_holds_a_command_slot_for_slot_hold_only(fake):
    os.environ["FAKE_MODE"] = "silent"

    async def scenario():
        t = make(fake, connect_timeout=1.5, slot_hold=0.3)
        opening = asyncio.ensure_future(t.open())
        await asyncio.sleep(0.6)
        assert condor._schedd_commands._value == condor.SCHEDD_COMMANDS_AT_ONCE
        with pytest.raises(tunnel.TunnelError, match="no answer from the job"):
            await opening
        await t.close()
    asyncio.run(scenario())


def test_stop_server_through_the_session(fake):
    async def scenario():
        t = make(fake)
        await t.open()
        await asyncio.sleep(0.3)  # the supervisor is watching the session's answers
        assert await t.stop_server(timeout=3)
        await t.close()
    for _ in range(5):
        asyncio.run(scenario())


def test_servers_started_together_never_share_a_hub_end(fake):
    """100 times, two tunnels opened at the same moment: each has its own hub
    end, and what answers there is its own job's session."""
    async def body(endpoint):
        reader, writer = await asyncio.open_unix_connection(endpoint)
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        data = await reader.read()
        writer.close()
        return data.split(b"\r\n\r\n", 1)[1].decode()

    async def scenario():
        for i in range(100):
            pair = [make(fake, cluster=1000 + 2 * i), make(fake, cluster=1001 + 2 * i)]
            await asyncio.gather(*(t.open() for t in pair))
            assert pair[0].endpoint != pair[1].endpoint
            assert [await body(t.endpoint) for t in pair] == [f"{1000 + 2 * i}.0", f"{1001 + 2 * i}.0"]
            await asyncio.gather(*(t.close() for t in pair))
    asyncio.run(scenario())


def test_backoff_starts_at_once_then_doubles_with_jitter_to_a_cap():
    assert all(tunnel.backoff(0) <= 0.2 for _ in range(20))
    assert all(0.75 <= tunnel.backoff(1) <= 1.25 for _ in range(20))
    assert all(3 <= tunnel.backoff(3) <= 5 for _ in range(20))
    assert all(tunnel.backoff(20) <= 30 * 1.25 for _ in range(20))
    assert len({tunnel.backoff(2) for _ in range(20)}) > 1


def test_endpoints_are_one_per_job_and_routed_as_unix_urls():
    assert tunnel.endpoint("/run/jupyterhub/tunnels", "alice", 42) == "/run/jupyterhub/tunnels/alice/job-42.sock"
    assert tunnel.url("/run/jupyterhub/tunnels/alice/job-42.sock", "/user/alice/") == \
        "http+unix://%2Frun%2Fjupyterhub%2Ftunnels%2Falice%2Fjob-42.sock/user/alice/"


def _acl_entries(path, name):
    data = os.getxattr(path, name)
    assert struct.unpack("<I", data[:4]) == (2,)
    return {struct.unpack("<HHI", data[i:i + 8]) for i in range(4, len(data), 8)}


def test_the_endpoint_directory_is_the_hubs_and_open_to_the_user_only(tmp_path):
    path = tunnel.prepare_endpoint_dir(str(tmp_path / "tunnels"), "alice", 4242)
    info = os.stat(path)
    assert info.st_uid == os.geteuid() and info.st_mode & 0o077 == 0o070  # the ACL mask shows as group bits
    assert (0x02, 7, 4242) in _acl_entries(path, "system.posix_acl_access")
    assert (0x20, 0, 0xFFFFFFFF) in _acl_entries(path, "system.posix_acl_access")
    assert (0x02, 6, os.geteuid()) in _acl_entries(path, "system.posix_acl_default")
    # Again (a hub restart): the same directory, the same ACL.
    assert tunnel.prepare_endpoint_dir(str(tmp_path / "tunnels"), "alice", 4242) == path


def test_an_endpoint_directory_someone_else_made_is_refused(tmp_path):
    (tmp_path / "tunnels").mkdir()
    (tmp_path / "tunnels" / "alice").symlink_to(tmp_path)
    with pytest.raises(tunnel.TunnelError, match="not the hub's own directory"):
        tunnel.prepare_endpoint_dir(str(tmp_path / "tunnels"), "alice", 4242)
