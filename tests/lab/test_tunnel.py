"""The tunnel's second design on the lab: no TCP port on the hub for a server,
hub ends that another user can neither reach nor take, a stopped tunnel that
costs its own user only, and a hub API the workers cannot reach.

Each test fails if the protection it names is removed."""

import re
import time
from concurrent.futures import ThreadPoolExecutor

from hubclient import SMALL, job_of, spawn
from labtest import wait_for

TUNNELS = "/run/jupyterhub/tunnels"
PROBE = ("import socket, sys\n"
         "s = socket.socket(socket.AF_UNIX)\n"
         "try:\n s.connect(sys.argv[1]); print('connected')\n"
         "except OSError as e: print(type(e).__name__)\n")


def endpoint(user, cluster):
    return f"{TUNNELS}/{user}/job-{int(cluster)}.sock"


def uid(lab, user):
    return lab.exec("hub", "id", "-u", user).stdout.strip()


def test_no_tcp_listener_of_a_user_on_the_hub_while_servers_run(lab, hub, servers):
    for user, name in (("alice", "t1"), ("alice", "t2"), ("alice", "t3"), ("bob", "t1"), ("bob", "t2")):
        spawn(hub, servers, user, name)
    users = {uid(lab, "alice"), uid(lab, "bob")}
    listeners = lab.exec("hub", "ss", "-Hltnpe").stdout
    owners = set(re.findall(r"\buid:(\d+)", listeners))
    assert not owners & users, listeners
    # Each server's hub end is a Unix socket of its user's, in its user's directory.
    for user, name in (("alice", "t1"), ("bob", "t2")):
        path = endpoint(user, job_of(hub, user, name)["cluster"])
        assert lab.exec("hub", "stat", "-c", "%F %U", path).stdout.split() == ["socket", user]


def test_another_user_cannot_reach_or_list_a_users_hub_ends(lab, hub, servers):
    spawn(hub, servers, "alice", "mine")
    path = endpoint("alice", job_of(hub, "alice", "mine")["cluster"])
    assert lab.exec("hub", "python3", "-c", PROBE, path, user="bob").stdout.strip() == "PermissionError"
    assert lab.exec("hub", "python3", "-c", PROBE, path, user="alice").stdout.strip() == "connected"
    listing = lab.exec("hub", "ls", f"{TUNNELS}/alice", user="bob", check=False)
    assert listing.returncode != 0 and "Permission denied" in listing.stderr
    # The hub's own directory: no user may add to it or list it.
    for attempt in (["mkdir", f"{TUNNELS}/carol"], ["ls", TUNNELS]):
        result = lab.exec("hub", *attempt, user="bob", check=False)
        assert result.returncode != 0 and "Permission denied" in result.stderr, result


SQUATTER = r"""
import os, re, socket, sys, time
# Whatever alice can see of bob's tunnel (paths in command lines), she tries to
# bind first, and the directory for bob's hub ends, should it not exist yet.
taken, tried = [], set()
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    targets = {sys.argv[2] + "/bob", sys.argv[2] + "/bob/job-0.sock"}
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                targets.update(re.findall(r"(/[A-Za-z0-9_./-]+\.sock)", f.read().decode(errors="replace")))
        except OSError:
            pass
    for path in targets - tried:
        tried.add(path)
        try:
            if path.endswith(".sock"):
                s = socket.socket(socket.AF_UNIX)
                s.bind(path)
                s.listen()
                taken.append(s)
            else:
                os.mkdir(path)
            print("took", path, flush=True)
        except OSError:
            pass
    time.sleep(0.02)
print("tried", len(tried), "took", len(taken), flush=True)
"""


def test_alice_cannot_squat_bobs_tunnel(lab, hub, servers):
    """As alice on the hub, bind or make whatever of bob's tunnel she can see,
    before and during his spawn: his requests reach his own server."""
    import threading
    result = {}

    def squat():
        result["out"] = lab.exec("hub", "python3", "-c", SQUATTER, "40", TUNNELS, user="alice",
                                 timeout=120).stdout
    watcher = threading.Thread(target=squat)
    watcher.start()
    time.sleep(2)
    spawn(hub, servers, "bob", "target")
    status, body = hub.user_api("bob", "api/status", "target")
    watcher.join()
    assert status == 200 and "started" in body, (status, body)
    tried, took = re.fullmatch(r"tried (\d+) took (\d+)", result["out"].splitlines()[-1]).groups()
    assert int(tried) >= 2 and took == "0", result["out"]
    cluster = job_of(hub, "bob", "target")["cluster"]
    assert lab.exec("hub", "stat", "-c", "%U", endpoint("bob", cluster)).stdout.strip() == "bob"


def test_a_stopped_tunnel_costs_its_own_user_only(lab, hub, servers):
    """alice SIGSTOPs her tunnel's processes while 8 others spawn: they come up
    in their normal time, and alice's server is reconnected by a new session."""
    spawn(hub, servers, "alice", "stopped")
    cluster = job_of(hub, "alice", "stopped")["cluster"]
    pids = lab.exec("hub", "pgrep", "-u", "alice", "-f", "--", f"job-{cluster}\\.sock").stdout.split()
    assert pids
    lab.exec("hub", "kill", "-STOP", *pids)
    try:
        t0 = time.monotonic()
        names = [("bob", f"crowd{i}") for i in range(8)]
        servers.extend(names)
        with ThreadPoolExecutor(len(names)) as pool:  # all eight at once
            answers = list(pool.map(lambda n: hub.start(n[0], n[1], SMALL), names))
        assert all(status in (201, 202) for status, _ in answers), answers
        for user, name in names:
            hub.wait_ready(user, name, timeout=180)
        crowd = time.monotonic() - t0
        wait_for(lambda: hub.user_api("alice", "api/status", "stopped")[0] == 200, 30,
                 "alice's server to answer through a new session")
        reconnected = time.monotonic() - t0
    finally:
        lab.exec("hub", "kill", "-CONT", *pids, check=False)
    print(f"8 servers ready in {crowd:.1f} s with alice's tunnel stopped; hers answered again after "
          f"{reconnected:.1f} s")
    log = lab.exec("hub", "journalctl", "-u", "jupyterhub", "--no-pager", "-q", "--since", "-5min").stdout
    assert f"tunnel to job {cluster} lost" in log


def test_workers_cannot_reach_the_hub_api(lab):
    probe = ("import socket\n"
             "try:\n socket.create_connection(('hub.lab.test', 8081), timeout=3); print('connected')\n"
             "except OSError as e: print(type(e).__name__)\n")
    for host in ("ex1", "ex2"):
        for user in (None, "alice"):
            answer = lab.exec(host, "python3", "-c", probe, user=user).stdout.strip()
            assert answer in ("ConnectionRefusedError", "TimeoutError"), (host, user, answer)
    # On the hub itself, the API answers on the loopback only.
    listeners = lab.exec("hub", "ss", "-Hltn", "sport", "= :8081").stdout.split()
    assert "127.0.0.1:8081" in listeners, listeners


def test_two_servers_started_together_have_their_own_hub_ends(lab, hub, servers):
    for name in ("twin-a", "twin-b"):
        status, body = hub.start("alice", name, SMALL)
        assert status in (201, 202), (status, body)
        servers.append(("alice", name))
    for name in ("twin-a", "twin-b"):
        hub.wait_ready("alice", name)
    a, b = (job_of(hub, "alice", name)["cluster"] for name in ("twin-a", "twin-b"))
    assert endpoint("alice", a) != endpoint("alice", b)
    for name in ("twin-a", "twin-b"):
        status, body = hub.user_api("alice", "api/status", name)
        assert status == 200, (name, status, body)
