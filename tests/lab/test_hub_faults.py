"""The spawner when things go wrong on the lab: eviction, run time limit, hub
restart, a job that vanished while the hub was down."""


import pytest
from hubclient import SMALL, job_of, jobs_of, left_queue, spawn
from labtest import wait_for


def test_eviction_brings_files_back_and_reports_stopped(lab, hub, servers):
    """11: a file written in the job is in the home after `condor_vacate_job`."""
    lab.exec("hub", "rm", "-f", "/home/alice/jupyter-evict/evicted.txt")
    spawn(hub, servers, "alice", "evict")
    cluster = job_of(hub, "alice", "evict")["cluster"]
    status, _ = hub.user_api("alice", "api/contents/evicted.txt", "evict", method="PUT",
                             body={"type": "file", "format": "text", "content": "kept\n"})
    assert status in (200, 201)
    lab.exec("hub", "condor_vacate_job", f"{cluster}.0", user="alice")
    wait_for(lambda: lab.exec("hub", "cat", "/home/alice/jupyter-evict/evicted.txt", check=False).stdout == "kept\n",
             60, "the evicted job's file in alice's home")
    wait_for(lambda: hub.server("alice", "evict") is None, 60, "the hub to report the server stopped")
    assert cluster not in jobs_of(lab, "alice")


def test_runtime_limit_stops_the_server(lab, hub, servers):
    """2: the run time chosen is enforced: the server is stopped with a clear
    message, and its files come back like at any stop."""
    lab.exec("hub", "rm", "-f", "/home/alice/jupyter-short/short.txt")
    spawn(hub, servers, "alice", "short", {**SMALL, "runtime_hours": 0.01})
    cluster = job_of(hub, "alice", "short")["cluster"]
    status, _ = hub.user_api("alice", "api/contents/short.txt", "short", method="PUT",
                             body={"type": "file", "format": "text", "content": "saved\n"})
    assert status in (200, 201)
    # 36 s of run time, checked at each of the spawner's polls (5 s in the lab).
    wait_for(lambda: hub.server("alice", "short") is None, 90, "the server to stop at its run time limit",
             interval=1)
    assert cluster not in jobs_of(lab, "alice")
    assert lab.exec("hub", "cat", "/home/alice/jupyter-short/short.txt").stdout == "saved\n"
    log = lab.exec("hub", "journalctl", "-u", "jupyterhub", "--no-pager", "-q").stdout
    assert f"job {cluster}.0) reached the run time you chose (0.01 h) and was stopped" in log


@pytest.mark.disruptive(11)
def test_job_gone_while_hub_down_is_cleaned_up(lab, hub, servers):
    spawn(hub, servers, "alice", "vanish")
    cluster = job_of(hub, "alice", "vanish")["cluster"]
    lab.exec("hub", "systemctl", "stop", "jupyterhub")
    lab.exec("hub", "condor_rm", str(cluster), user="alice")
    lab.exec("hub", "systemctl", "start", "jupyterhub")
    wait_for(lambda: _ready(hub), 60, "the hub to answer")
    wait_for(lambda: hub.server("alice", "vanish") is None, 60, "the vanished server to be cleaned up")


@pytest.mark.disruptive(12)
def test_orphaned_job_is_removed(lab, hub):
    """A job of this hub that no server claims (its spawn died with the hub) is removed."""
    # Marked like the hub's jobs, and within its limits (which its schedd enforces).
    cluster = lab.submit("bob", 'executable = /bin/sleep\narguments = 600\n+UnchainedHub = "hub.lab.test"\n'
                                '+UnchainedRuntime = 600\n+UnchainedEnvironment = "lab-venv"\nqueue\n')
    cluster = int(cluster.split(".")[0])
    # orphan_grace is 60 s in the lab.
    wait_for(lambda: left_queue(lab, "bob", [cluster]), 120, "the orphaned job to be removed", interval=1)


BAD_ADDITION = """
import json
path = "/etc/jupyterhub/jupyterhub_config.json"
config = json.load(open(path))
config["UnchainedSpawner"]["job_additions"]["accounting_groups"]["default"] = "group_lab\\nqueue 100"
json.dump(config, open(path, "w"))
"""


@pytest.mark.disruptive(6)
def test_a_job_addition_with_a_line_break_is_refused_at_start(lab, hub, servers):
    """A value that would add a line to every submit description, written into
    the hub's configuration past Puppet (whose types refuse it first): the hub
    refuses every start, naming the setting, and submits nothing."""
    before = jobs_of(lab, "alice")
    try:
        lab.exec("hub", "python3", "-c", BAD_ADDITION)
        lab.exec("hub", "systemctl", "restart", "jupyterhub")
        wait_for(lambda: _ready(hub), 60, "the hub to answer")
        servers.append(("alice", "bad-addition"))
        status, body = hub.start("alice", "bad-addition", SMALL)
        assert status == 500, (status, body)
        message = body["message"]
        assert "configuration is wrong" in message and "job_additions.accounting_groups.default" in message, body
        assert "tell the site admin" in message, body
        assert jobs_of(lab, "alice") == before
        log = lab.exec("hub", "journalctl", "-u", "jupyterhub", "--no-pager", "-q", "--since", "-2min").stdout
        assert "UnchainedSpawner is misconfigured, no server can start: job_additions.accounting_groups.default" in log
    finally:
        # Puppet writes the configuration back, and restarts the hub.
        restored = lab.labctl("apply", "hub", timeout=900, check=False)
        assert restored.returncode in (0, 2), restored.stdout + restored.stderr
        wait_for(lambda: _ready(hub), 60, "the hub to answer again")


def _ready(hub):
    try:
        return hub.request("GET", "/hub/api/")[0] == 200
    except OSError:
        return False
