"""Faults a site meets, proven on the lab: a worker that dies or is cut off, a
hub killed, a schedd restarted, a job held while it runs; and that no stop path
loses files, named servers included (issue 18: 1, 2 and 6)."""

import re
import subprocess
import threading
import time

import pytest
from hubclient import SMALL, job_of, jobs_of, left_queue, spawn, start_in_background
from labtest import wait_for

EXECUTE = ("ex1", "ex2")
# The bridge's forward hook sees every frame between lab hosts: dropping those
# of one host's port cuts it off from the pool, and from nothing else.
PARTITION_TABLE = "unchained_partition"


def worker_of(lab, cluster):
    out = lab.exec("hub", "condor_q", str(cluster), "-af", "RemoteHost").stdout.strip()
    return out.split("@")[-1].split(".")[0]


def hub_log_since(lab, since):
    return lab.exec("hub", "journalctl", "-u", "jupyterhub", "--no-pager", "-q", "--since", since).stdout


def lab_time(lab):
    return lab.exec("hub", "date", "+%Y-%m-%d %H:%M:%S").stdout.strip()


def put_file(hub, user, name, path, text):
    status, body = hub.user_api(user, f"api/contents/{path}", name, method="PUT",
                                body={"type": "file", "format": "text", "content": text})
    assert status in (200, 201), (status, body)


def tunnel_processes(lab, cluster):
    """The hub's session processes (sudo, condor_ssh_to_job, ssh) of one job's tunnel."""
    out = lab.exec("hub", "pgrep", "-af", f"job-{cluster}\\.sock", check=False).stdout
    return [line for line in out.splitlines() if "pgrep" not in line]


def pool_ready(lab, host):
    """The worker's startd is back in the pool, with a CCB address."""
    out = lab.exec("cm", "condor_status", "-startd", "-af", "Machine", "MyAddress", check=False).stdout
    return any(line.startswith(f"{host}.") and "CCBID" in line for line in out.splitlines())


def restore_worker(lab, host):
    """HTCondor running again on the worker, none of the lost jobs' processes left."""
    lab.exec(host, "pkill", "-KILL", "-u", "alice", check=False)
    lab.exec(host, "systemctl", "restart", "condor")
    wait_for(lambda: pool_ready(lab, host), 120, f"{host}'s startd back in the pool", interval=1)


def cut_off(host):
    rules = (f"table bridge {PARTITION_TABLE} {{\n"
             f"  chain forward {{ type filter hook forward priority -200; policy accept;\n"
             f'    iifname "unlab-{host}" drop\n    oifname "unlab-{host}" drop\n  }}\n}}\n')
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)


def reconnect(host):
    subprocess.run(["nft", "delete", "table", "bridge", PARTITION_TABLE], check=False, capture_output=True)


def assert_worker_lost_reported(lab, hub, servers, name, lose, restore):
    """A server whose worker `lose(host)` takes away: the hub stops it within
    90 s and says why; the queue is clean; a new server starts on the other worker."""
    since = lab_time(lab)
    spawn(hub, servers, "alice", name)
    cluster = job_of(hub, "alice", name)["cluster"]
    host = worker_of(lab, cluster)
    other = next(h for h in EXECUTE if h != host)
    t0 = time.monotonic()
    lose(host)
    try:
        wait_for(lambda: hub.server("alice", name) is None, 90, "the hub to report the server stopped",
                 interval=1)
        reported = time.monotonic() - t0
        wait_for(lambda: left_queue(lab, "alice", [cluster]), 30, "the lost job to leave the queue", interval=1)
        gone = time.monotonic() - t0
        log = hub_log_since(lab, since)
        assert f"The machine running your server (job {cluster}.0), {host}.lab.test, stopped answering" in log, log
        # The next spawn page starts with it, then a server comes up on the worker that answers.
        start_in_background(hub, servers, "alice", name, SMALL)
        events = hub.progress("alice", name)
        assert any("stopped answering" in e.get("message", "") for e in events), events
        assert events[-1].get("ready"), events
        new = job_of(hub, "alice", name)["cluster"]
        assert worker_of(lab, new) == other
        print(f"\nworker lost ({lose.__name__}): reported after {reported:.1f} s, job gone after {gone:.1f} s")
        hub.stop("alice", name)
        assert jobs_of(lab, "alice") == []
    finally:
        restore(host)


@pytest.mark.disruptive(20)
def test_a_worker_whose_htcondor_died_is_reported_and_its_job_removed(lab, hub, servers):
    def kill_htcondor(host):
        # Killed, and not restarted by systemd a minute later: the worker is gone
        # for HTCondor (its job's processes run on, orphaned).
        lab.exec(host, "systemctl", "kill", "-s", "KILL", "condor")
        lab.exec(host, "systemctl", "stop", "condor")
    assert_worker_lost_reported(lab, hub, servers, "lost", kill_htcondor, lambda host: restore_worker(lab, host))


@pytest.mark.disruptive(21)
def test_a_worker_cut_off_from_the_pool_is_reported_and_its_job_removed(lab, hub, servers):
    def cut_network(host):
        cut_off(host)

    def restore(host):
        reconnect(host)
        restore_worker(lab, host)
    assert_worker_lost_reported(lab, hub, servers, "cut", cut_network, restore)


# -- no stop path loses files ---------------------------------------------------

def test_named_servers_have_files_of_their_own(lab, hub, servers):
    """The default server's files are ~/jupyter, server NAME's ~/jupyter-NAME:
    stopping one never copies its files over another's."""
    lab.exec("hub", "rm", "-rf", "jupyter/mine.txt", "jupyter-second", user="alice")
    spawn(hub, servers, "alice")
    spawn(hub, servers, "alice", "second")
    put_file(hub, "alice", "", "mine.txt", "default\n")
    put_file(hub, "alice", "second", "mine.txt", "second\n")
    hub.stop("alice", "second")
    hub.stop("alice")
    assert lab.exec("hub", "cat", "jupyter/mine.txt", user="alice").stdout == "default\n"
    assert lab.exec("hub", "cat", "jupyter-second/mine.txt", user="alice").stdout == "second\n"
    # A name that would not make a directory of its own is refused (by JupyterHub 6
    # already; the spawner refuses it too, tests/unit/test_server_files.py), no job made.
    before = jobs_of(lab, "alice")
    status, body = hub.start("alice", "dot.ted", SMALL)
    assert status == 400, (status, body)
    assert jobs_of(lab, "alice") == before


def test_a_stop_the_server_does_not_answer_holds_the_job_and_brings_the_files_home(lab, hub, servers):
    """The job's launcher is frozen (SIGSTOP) when the server is stopped, so the
    request to stop gets no answer, through the tunnel or a session of its own:
    after those fail and stop_grace passes, the hub holds the job (never
    condor_rm while it runs). Thawed, the launcher ends on HTCondor's SIGTERM, and
    the file written in the job is in the home when the stop returns."""
    lab.exec("hub", "rm", "-rf", "jupyter-stuck", user="alice")
    since = lab_time(lab)
    spawn(hub, servers, "alice", "stuck")
    cluster = job_of(hub, "alice", "stuck")["cluster"]
    put_file(hub, "alice", "stuck", "late.txt", "written before the stop\n")
    host = worker_of(lab, cluster)
    launcher = "unchained-singleuser --files-dir jupyter-stuck"
    lab.exec(host, "pkill", "-STOP", "-f", launcher)
    stopping = threading.Thread(target=hub.stop, args=("alice", "stuck"), kwargs={"timeout": 300}, daemon=True)
    t0 = time.monotonic()
    stopping.start()
    try:
        wait_for(lambda: f"job {cluster} of alice: hold" in hub_log_since(lab, since), 120,
                 "the hub to hold the job", interval=1)
    finally:
        lab.exec(host, "pkill", "-CONT", "-f", launcher)
    stopping.join(240)
    assert not stopping.is_alive(), "the stop did not return"
    print(f"\nstop of a server that did not answer: {time.monotonic() - t0:.1f} s")
    assert cluster not in jobs_of(lab, "alice")
    assert lab.exec("hub", "cat", "jupyter-stuck/late.txt", user="alice").stdout == "written before the stop\n"
    steps = re.findall(rf"job {cluster} of alice: (hold|remove|force remove)", hub_log_since(lab, since))
    assert steps == ["hold", "remove"], steps


def test_a_server_that_does_not_stop_is_killed_by_its_launcher_and_the_files_come_home(lab, hub, servers):
    """The notebook server itself is frozen (SIGSTOP: SIGTERM does nothing),
    its launcher answers: asked to stop, it kills the server after its stop
    timeout (30 s), well before HTCondor's vacate time (600 s) would end the
    job without bringing its files home."""
    lab.exec("hub", "rm", "-rf", "jupyter-frozen", user="alice")
    spawn(hub, servers, "alice", "frozen")
    cluster = job_of(hub, "alice", "frozen")["cluster"]
    put_file(hub, "alice", "frozen", "kept.txt", "written before the stop\n")
    host = worker_of(lab, cluster)
    # The launcher's processes name its files directory; the server, its child, does not.
    launcher = set(lab.exec(host, "pgrep", "-u", "alice", "-f", "--", "--files-dir jupyter-frozen").stdout.split())
    server = {child for pid in launcher
              for child in lab.exec(host, "pgrep", "-P", pid, check=False).stdout.split()} - launcher
    assert len(server) == 1, (launcher, server)
    lab.exec(host, "kill", "-STOP", *server)
    t0 = time.monotonic()
    hub.stop("alice", "frozen", timeout=300)
    print(f"\nstop of a frozen server: {time.monotonic() - t0:.1f} s")
    assert cluster not in jobs_of(lab, "alice")
    assert lab.exec("hub", "cat", "jupyter-frozen/kept.txt", user="alice").stdout == "written before the stop\n"
    err = lab.exec("hub", "cat", f".jupyterhub-unchained/job-{cluster}.err", user="alice").stdout
    assert "did not stop within 30 s; killing it" in err, err


@pytest.mark.disruptive(13)
def test_a_job_held_while_it_runs_is_reported_removed_and_its_files_come_home(lab, hub, servers):
    lab.exec("hub", "rm", "-rf", "jupyter-held", user="alice")
    since = lab_time(lab)
    spawn(hub, servers, "alice", "held")
    cluster = job_of(hub, "alice", "held")["cluster"]
    put_file(hub, "alice", "held", "kept.txt", "kept\n")
    lab.exec("hub", "condor_hold", "-reason", "the site admin needs this machine", str(cluster), user="alice")
    wait_for(lambda: hub.server("alice", "held") is None, 60, "the hub to report the server stopped", interval=1)
    wait_for(lambda: left_queue(lab, "alice", [cluster]), 30, "the held job to be removed", interval=1)
    assert lab.exec("hub", "cat", "jupyter-held/kept.txt", user="alice").stdout == "kept\n"
    assert "was held by HTCondor: the site admin needs this machine" in hub_log_since(lab, since)


# -- the hub or the schedd dies -------------------------------------------------

@pytest.mark.disruptive(10)
def test_a_killed_hub_brings_every_server_back_without_duplicates_or_orphans(lab, hub, servers):
    """SIGKILL of the hub with 5 servers running: all answer again within 10 s of
    its restart, each with one tunnel (three processes), no job lost or orphaned."""
    names = [f"k{i}" for i in range(5)]
    for name in names:
        spawn(hub, servers, "alice", name)
    clusters = {name: job_of(hub, "alice", name)["cluster"] for name in names}
    lab.exec("hub", "systemctl", "kill", "-s", "KILL", "jupyterhub")
    wait_for(lambda: lab.exec("hub", "systemctl", "is-active", "jupyterhub", check=False).stdout.strip() != "active",
             30, "the hub to be down")
    t0 = time.monotonic()
    lab.exec("hub", "systemctl", "start", "jupyterhub")

    def all_answer():
        try:
            return all(hub.user_api("alice", "api/status", name, timeout=2)[0] == 200 for name in names)
        except OSError:
            return False
    wait_for(all_answer, 60, "all five servers to answer after the restart", interval=0.2)
    elapsed = time.monotonic() - t0
    print(f"\nhub killed and restarted: all 5 servers answer {elapsed:.2f} s after the start")
    assert elapsed < 10
    assert {name: job_of(hub, "alice", name)["cluster"] for name in names} == clusters
    assert sorted(jobs_of(lab, "alice")) == sorted(clusters.values())
    time.sleep(3)  # sessions of the killed hub end when their pipe closes; give them that
    for cluster in clusters.values():
        procs = tunnel_processes(lab, cluster)
        assert len(procs) == 3, procs


@pytest.mark.disruptive(11)
def test_a_schedd_restart_loses_no_server(lab, hub, servers):
    names = [f"s{i}" for i in range(5)]
    for name in names:
        spawn(hub, servers, "alice", name)
    clusters = {name: job_of(hub, "alice", name)["cluster"] for name in names}
    lab.exec("hub", "systemctl", "restart", "condor")
    wait_for(lambda: lab.exec("hub", "condor_q", "-af", "ClusterId", check=False).returncode == 0, 60,
             "the schedd to answer")
    time.sleep(10)  # a few of the hub's polls and tunnel probes
    for name in names:
        assert hub.user_api("alice", "api/status", name, timeout=5)[0] == 200, name
        assert job_of(hub, "alice", name)["cluster"] == clusters[name]
    assert sorted(jobs_of(lab, "alice")) == sorted(clusters.values())
