"""Scaling out to site B: another institute's Slurm cluster, on its own
network segment, whose jobs are drones of the pool (startds that join
through the central manager's CCB).

Site B's hosts take no connection from site A but the overlay manager's ssh
to the login host, and reach site A only at HTCondor's shared port on the
central manager and the hub. A drone joins with a token that may advertise a
site B drone and nothing else; a notebook runs on it in the job image, with
the tunnel, files and kernels as on site A's workers.
"""

import json
import re
import sys
import time
from pathlib import Path

import pytest
from hubclient import job_of
from labtest import GUEST_CA, connect_all, connect_many, wait_for
from test_hub import answers, tunnel_pids
from test_kerberos import hub_log_since

# The overlay manager's logic, from the checkout (standard library only).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hub"))
from unchained_hub import overlay  # noqa: E402

SITE_A_SERVICES = {
    "cm.lab.test": [9618, 22],
    "hub.lab.test": [9618, 8000, 22],
    "ex1.lab.test": [9618, 22],
    "ex2.lab.test": [9618, 22],
    "kdc.lab.test": [88, 22],
    "om.lab.test": [22],
}


def reachable(lab, src, targets):
    """{(host, port): result} of connecting from src to every port of targets, all at once."""
    return connect_many(lab, src, [(host, port) for host, ports in targets.items() for port in ports])


@pytest.mark.parametrize("node", ["sbctl", "sbn1", "sbn2"])
def test_site_b_reaches_site_a_only_at_the_shared_ports_of_cm_and_hub(lab, node):
    results = reachable(lab, node, SITE_A_SERVICES)
    opened = {key for key, result in results.items() if result == "connected"}
    assert opened == {("cm.lab.test", 9618), ("hub.lab.test", 9618)}, results
    # The rest is dropped (a timeout), not refused by a host that got the packet.
    assert {result for key, result in results.items() if key not in opened} == {"timeout"}, results


@pytest.mark.parametrize("node", ["hub", "cm", "ex1", "om"])
def test_site_a_reaches_site_b_only_by_the_overlay_managers_ssh_to_the_login_host(lab, node):
    results = reachable(lab, node, {"sbctl.siteb.test": [22, 6817, 6818], "sbn1.siteb.test": [22, 6818]})
    expected = {("sbctl.siteb.test", 22)} if node == "om" else set()
    assert {key for key, result in results.items() if result == "connected"} == expected, results


def test_site_b_hosts_reach_each_other(lab):
    # Control for the drops above: within site B, Slurm and ssh connect.
    results = connect_all(lab, "sbn1", "sbctl.siteb.test", [6817, 22])
    assert results == {6817: "connected", 22: "connected"}


@pytest.mark.parametrize("node", ["sbctl", "sbn1"])
def test_site_b_has_no_route_beyond_the_lab(lab, node):
    routes = json.loads(lab.exec(node, "ip", "-j", "route", "show").stdout)
    assert sorted((r["dst"], r.get("gateway")) for r in routes) == [
        ("10.77.0.0/24", "10.78.0.254"), ("10.78.0.0/24", None)], routes


JOB = {"JobStatus": 1, "UnchainedHub": '"hub.lab.test"', "ContainerImage": '"/srv/images/job"',
       "RequestCpus": 1, "RequestMemory": 512, "UnchainedRuntime": 3600, "UnchainedSites": '""',
       "EnteredCurrentStatus": "time() - 5"}


def test_the_overlay_manager_counts_the_jobs_a_drone_could_take(lab):
    """unchained_hub.overlay's constraint, in HTCondor's own ClassAd language."""
    site = overlay.DroneSite(site="siteb", cores=2, memory_mb=2000, walltime_seconds=5 * 3600,
                             shutdown_margin=120, patience=30)
    waiting = site.waiting_jobs()

    def matches(**changes):
        ad = {**JOB, **changes}
        text = "[" + "; ".join(f"{k} = {v}" for k, v in ad.items() if v is not None) + "]"
        return lab.exec("hub", "classad_eval", text, waiting).stdout.strip().splitlines()[-1] == "true"

    # Any site: only once site A had its chance.
    assert not matches()
    assert matches(EnteredCurrentStatus="time() - 31")
    # Site B only: at once. Site A only: never.
    assert matches(UnchainedSites='"siteb"')
    assert matches(UnchainedSites='"lab,siteb"', EnteredCurrentStatus="time() - 31")
    assert not matches(UnchainedSites='"lab"', EnteredCurrentStatus="time() - 31")
    # What a drone cannot take: too big, too long, not in a container, not idle, not a notebook.
    for change in ({"RequestCpus": 3}, {"RequestMemory": 4000}, {"UnchainedRuntime": 5 * 3600},
                   {"ContainerImage": None}, {"JobStatus": 2}, {"UnchainedHub": None}):
        assert not matches(UnchainedSites='"siteb"', **change), change


# -- drones: started by the overlay manager when a notebook waits for one ------------

SITE_B_ONLY = {"preset": "site-b"}
NAME = "siteb"
# Site B's compute nodes, where drones run.
SITE_B_NODE = r"sbn\d+\.siteb\.test"


def drones(lab):
    """The drones in the pool: {name: ad} of their partitionable slots. A drone
    killed before it could say so (Slurm's SIGKILL) leaves its ad in the
    collector for a while: drones not heard from for 10 s (five updates) are gone."""
    out = lab.exec("hub", "condor_status", "-constraint", "UnchainedDrone =?= true && PartitionableSlot =?= true "
                   "&& time() - LastHeardFrom < 10",
                   "-json", "-attributes", "Name,Machine,UnchainedSite,AuthenticatedIdentity,MyAddress,"
                   "TardisDroneUuid,UnchainedDroneBatchJob", check=False).stdout
    return {ad["Name"]: ad for ad in json.loads(out or "[]")}


def slurm_jobs(lab):
    """Site B's Slurm jobs: [(id, state)]."""
    out = lab.exec("sbctl", "squeue", "-h", "-o", "%i %T").stdout
    return [tuple(line.split()) for line in out.splitlines() if line.strip()]


def wait_no_drones(lab, timeout):
    """Until no drone is advertised and no Slurm job is left at site B."""
    wait_for(lambda: not drones(lab) and not slurm_jobs(lab), timeout, "no drone and no Slurm job at site B")


def in_the_job(lab, hub, user, name, guest_script, *args, **params):
    params = {"url": f"https://127.0.0.1:8000/user/{user}/{name}", "ca": GUEST_CA, "token": hub.token, **params}
    return json.loads(lab.hub_helper(guest_script, *args, params=params, timeout=150))


def python(lab, hub, user, name, code):
    result = in_the_job(lab, hub, user, name, "kernel_client.py", "exec", kernel="python3", code=code)
    assert result["status"] == "ok", result
    return result["output"].strip()


def spawn_messages(lab, user, name, since):
    """The spawn page's messages for a server since `since`, from the hub's
    log: a drone may now come within the 10 s the hub takes to answer the
    POST, and a spawn done by then leaves no event stream to read."""
    prefix = f"{user}:{name}: "
    return [line.split(prefix, 1)[1] for line in hub_log_since(lab, since).splitlines() if prefix in line]


@pytest.fixture
def no_drones(lab):
    """Site B without drones when the test starts."""
    wait_no_drones(lab, 120)


def test_a_notebook_for_site_b_gets_a_drone_and_runs_there(lab, hub, servers, no_drones):
    lab.exec("hub", "rm", "-rf", f"/home/alice/jupyter-{NAME}")
    servers.append(("alice", NAME))
    since = time.time() - 1
    status, body = hub.start("alice", NAME, SITE_B_ONLY)
    assert status in (201, 202), (status, body)
    hub.wait_ready("alice", NAME, timeout=240)
    messages = spawn_messages(lab, "alice", NAME, since)
    assert any("is waiting for a worker at site B; one is being started for it" in m for m in messages), messages
    assert any(re.search(rf"is running on {SITE_B_NODE} at site B; connecting", m) for m in messages), messages

    # The kernel runs on site B's node, in the job image, and writes a file that comes home.
    out = python(lab, hub, "alice", NAME, "import socket, os; open('from-site-b.txt', 'w').write('hello\\n'); "
                 "print(socket.gethostname(), os.path.isdir('/.singularity.d'), os.getuid())")
    node, in_image, _ = out.split()
    assert re.fullmatch(SITE_B_NODE, node) and in_image == "True", out

    # The drone that runs it: started by TARDIS at site B, joined through the
    # CCB with site B's drone token, and saying so.
    (ad,) = drones(lab).values()
    assert ad["Machine"] == node and ad["UnchainedSite"] == "siteb"
    assert ad["AuthenticatedIdentity"] == "drone-siteb@lab.test"
    assert "CCBID=" in ad["MyAddress"] and ad["TardisDroneUuid"].startswith("siteb-"), ad
    assert [state for _, state in slurm_jobs(lab)] == ["RUNNING"]
    assert ad["UnchainedDroneBatchJob"] == f"slurm:{slurm_jobs(lab)[0][0]}"

    # Its tunnel, killed, comes back through the CCB, as to site A's workers.
    # (Once, the first session to a new drone was lost 1.7 s after the server
    # was ready, and re-established by the hub in 0.56 s: the kill waits for
    # the tunnel there is.)
    cluster = job_of(hub, "alice", NAME)["cluster"]

    def one_tunnel():
        pids = tunnel_pids(lab, "alice", cluster)
        return pids if len(pids) == 1 else None

    (pid,) = wait_for(one_tunnel, 30, "the tunnel to the drone")
    lab.exec("hub", "kill", "-9", pid)
    wait_for(lambda: tunnel_pids(lab, "alice", cluster) not in ([], [pid]) and answers(hub, "alice", NAME), 30,
             "the tunnel to the drone to come back")

    hub.stop("alice", NAME)
    servers.remove(("alice", NAME))
    assert lab.exec("hub", "cat", f"/home/alice/jupyter-{NAME}/from-site-b.txt").stdout == "hello\n"
    # A drone runs one job: it leaves when idle after it (20 s in the lab), and
    # its Slurm job ends.
    wait_no_drones(lab, 60)


def test_a_drone_token_cannot_advertise_a_worker_of_site_a(lab):
    """A stolen drone token gives a slot at site B, never one the hub would
    send a site-A-only notebook to: the same ad with site B's name is taken,
    with site A's it is not."""
    env = ["env", "CONDOR_CONFIG=/etc/unchained-drone/condor_config", "DRONE_DIR=/tmp", "DRONE_NAME=fake",
           "DRONE_CPUS=1", "DRONE_MEMORY_MB=100", "DRONE_END=0", "DRONE_BATCH_JOB=none", "DRONE_TARDIS_UUID="]

    def advertise(name, site):
        ad = (f'MyType = "Machine"\nName = "{name}"\nMachine = "fake.siteb.test"\nUnchainedSite = "{site}"\n'
              'UnchainedDrone = true\nMyAddress = "<10.78.0.21:9>"\nStartdIpAddr = "<10.78.0.21:9>"\n'
              'Requirements = false\nState = "Owner"\nActivity = "Idle"\n')
        lab.exec("sbn1", *env, "condor_advertise", "UPDATE_STARTD_AD", "-", user="drone", input=ad)

    advertise("slot1@fake-a.siteb.test", "lab")
    advertise("slot1@fake-b.siteb.test", "siteb")
    try:
        wait_for(lambda: "slot1@fake-b.siteb.test" in lab.exec("hub", "condor_status", "-af", "Name").stdout,
                 20, "the site B ad (the control) in the collector")
        names = lab.exec("hub", "condor_status", "-af", "Name").stdout.split()
        assert "slot1@fake-a.siteb.test" not in names, names
    finally:
        lab.exec("cm", "condor_advertise", "INVALIDATE_STARTD_ADS", "-",
                 input='MyType = "Query"\nTargetType = "Machine"\nRequirements = Machine == "fake.siteb.test"\n',
                 check=False)


# -- faults ------------------------------------------------------------------------

def start_at_site_b(hub, servers, user, name):
    servers.append((user, name))
    status, body = hub.start(user, name, SITE_B_ONLY)
    assert status in (201, 202), (status, body)
    hub.wait_ready(user, name, timeout=240)


def the_drone_job(lab):
    ((job, state),) = slurm_jobs(lab)
    assert state == "RUNNING"
    return job


def test_a_busy_drone_killed_by_slurm_is_reported_and_the_files_come_home(lab, hub, servers, no_drones):
    """scancel of a drone with a notebook: Slurm's SIGTERM shuts the drone down
    gracefully, the job is vacated, its files come home, the user is told,
    and a new start gets a new drone."""
    name = "scancel"
    lab.exec("hub", "rm", "-rf", f"/home/alice/jupyter-{name}")
    start_at_site_b(hub, servers, "alice", name)
    status, _ = hub.user_api("alice", "api/contents/kept.txt", name, method="PUT",
                             body={"type": "file", "format": "text", "content": "kept\n"})
    assert status in (200, 201)
    job = the_drone_job(lab)
    lab.exec("sbctl", "scancel", job)
    wait_for(lambda: hub.server("alice", name) is None, 90, "the hub to report the server ended")
    assert lab.exec("hub", "cat", f"/home/alice/jupyter-{name}/kept.txt").stdout == "kept\n"
    log = lab.exec("hub", "journalctl", "-u", "jupyterhub", "--no-pager", "-q").stdout
    assert "was evicted from its machine; your files were copied back" in log
    # The user starts again: another drone.
    wait_no_drones(lab, 120)
    start_at_site_b(hub, servers, "alice", name)
    assert the_drone_job(lab) != job
    hub.stop("alice", name)


@pytest.mark.disruptive(20)
def test_drones_keep_running_when_cobald_restarts(lab, hub, servers, no_drones):
    name = "cobald"
    start_at_site_b(hub, servers, "alice", name)
    job = the_drone_job(lab)
    lab.exec("om", "systemctl", "restart", "cobald")
    # TARDIS takes the drone up again from its registry: no second drone, the
    # first one and its notebook go on.
    wait_for(lambda: "drone(s) busy" in lab.exec("om", "journalctl", "-u", "cobald", "-n", "50", "--no-pager",
                                                 "--since", "-20s").stdout, 60, "COBalD to look at the pool again")
    time.sleep(10)
    assert slurm_jobs(lab) == [(job, "RUNNING")]
    assert re.fullmatch(SITE_B_NODE, python(lab, hub, "alice", name, "import socket; print(socket.gethostname())"))
    hub.stop("alice", name)


@pytest.mark.disruptive(21)
def test_with_site_bs_slurm_controller_down_local_notebooks_start_and_waiting_ones_say_so(lab, hub, servers,
                                                                                          no_drones):
    lab.exec("sbctl", "systemctl", "stop", "slurmctld")
    try:
        servers.append(("bob", "local"))
        status, _ = hub.start("bob", "local", {"preset": "site-a"})
        assert status in (201, 202)
        hub.wait_ready("bob", "local")
        state = (hub.server("bob", "local") or {}).get("state") or {}
        host = lab.exec("hub", "condor_q", str(state["cluster"]), "-af", "RemoteHost").stdout.strip()
        assert host.endswith(("@ex1.lab.test", "@ex2.lab.test")), host

        servers.append(("alice", "waits"))
        status, _ = hub.start("alice", "waits", SITE_B_ONLY)
        assert status in (201, 202)
        events = hub.progress("alice", "waits", timeout=120,
                              until=lambda events: any("longer than usual" in e.get("message", "") for e in events))
        messages = [e.get("message", "") for e in events]
        assert any("starting one takes longer than usual (site B's batch system may be busy or down)" in m
                   for m in messages), messages
    finally:
        lab.exec("sbctl", "systemctl", "start", "slurmctld")
    # With Slurm back, TARDIS submits the drone after all.
    hub.wait_ready("alice", "waits", timeout=240)
    hub.stop("alice", "waits")
    hub.stop("bob", "local")
