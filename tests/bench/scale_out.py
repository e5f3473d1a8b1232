"""Scaling out to site B, measured on the running lab: a notebook's POST ->
ready through a drone, cold (no drone: the overlay manager starts one) and
warm (an idle drone waits), against a spawn on site A's own workers in the
same run; ten notebooks requested at once; and that the drones are gone
afterwards.

    UNCHAINED_LAB_SITE_B_NODES=10 tests/lab/labctl up
    /usr/bin/python3 tests/bench/scale_out.py [--rounds N] [--burst N]

Site A is filled first with two ordinary jobs of 64 cores each (bob's), so
that notebooks that may run at any site go to site B. A drone serves one
notebook on a node of its own, so the burst needs as many site B nodes up as
notebooks: the lab boots two unless told more (labkit/config.py). Needs root
(as labctl) and the lab to itself. Prints the figures and the ratios;
targets: cold <= 60 s, warm <= 1.2 x the local spawn.
"""

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parents[1] / "lab"
sys.path.insert(0, str(LAB_DIR))

from hubclient import Hub  # noqa: E402
from labtest import Lab, kinit, wait_for  # noqa: E402
from test_scale_out import drones, slurm_jobs, wait_no_drones  # noqa: E402

ANY_SITE = {"cpus": 1, "memory_gb": 0.5, "disk_gb": 1, "runtime_hours": 1}
SITE_A = {"preset": "site-a"}
# The burst's notebooks: named servers of the lab's users whom the hub may
# start jobs for (not carol), and whose idle servers it leaves (not frank).
BURST_USERS = ("alice", "bob", "dave", "erin")
FILL = ("universe = vanilla\nexecutable = /bin/sleep\narguments = 3600\nrequest_cpus = 64\n"
        "request_memory = 64\nrequirements = UnchainedSite =?= \"lab\" && UnchainedDrone =!= true\nqueue 2\n")


def say(message):
    print(f"scale-out: {message}", flush=True)


def spawn(hub, user, name, options):
    started = time.monotonic()
    status, body = hub.start(user, name, options)
    if status not in (201, 202):
        raise SystemExit(f"scale-out: POST for {user}/{name} answered {status}: {body}")
    hub.wait_ready(user, name, timeout=300)
    return time.monotonic() - started


def site_b_nodes_up(lab):
    """Site B's compute nodes that Slurm can give a job to now."""
    return lab.exec("sbctl", "sinfo", "-h", "-N", "-t", "idle,mixed,allocated", "-o", "%N").stdout.split()


def burst(lab, hub, count):
    """`count` notebooks (of BURST_USERS in turn) requested at once: seconds until each
    is ready, the most Slurm jobs (drones) seen at once, and the machine each
    runs on."""
    servers = [(BURST_USERS[i % len(BURST_USERS)], f"burst{i}") for i in range(count)]
    started = time.monotonic()
    # All at once: the hub answers a POST when the server is ready or after
    # its slow_spawn_timeout (10 s), so one after another they would trickle in.
    with ThreadPoolExecutor(count) as posting:
        answers = list(posting.map(lambda server: hub.start(*server, ANY_SITE), servers))
    for (user, name), (status, body) in zip(servers, answers, strict=True):
        if status not in (201, 202):
            raise SystemExit(f"scale-out: POST for {user}/{name} answered {status}: {body}")
    ready, peak = {}, 0
    while len(ready) < count:
        if time.monotonic() - started > 600:
            raise SystemExit(f"scale-out: {count - len(ready)} of {count} notebooks not ready after 600 s")
        peak = max(peak, len(slurm_jobs(lab)))
        for user, name in servers:
            model = hub.server(user, name) or {}
            if (user, name) not in ready and model.get("ready"):
                ready[user, name] = time.monotonic() - started
        time.sleep(0.5)
    machines = [lab.exec("hub", "condor_q", str(hub.server(user, name)["state"]["cluster"]), "-af",
                         "RemoteHost").stdout.strip().split("@")[-1] for user, name in servers]
    for user, name in servers:
        hub.stop(user, name)
    return sorted(ready.values()), peak, machines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--burst", type=int, default=10, help="notebooks requested at once (0: none)")
    args = parser.parse_args()
    lab = Lab()
    nodes = site_b_nodes_up(lab)
    if len(nodes) < args.burst:
        raise SystemExit(f"scale-out: the burst of {args.burst} notebooks needs {args.burst} site B nodes, and "
                         f"{len(nodes)} are up ({' '.join(nodes)}): bring the lab up with "
                         f"UNCHAINED_LAB_SITE_B_NODES={args.burst} tests/lab/labctl up, or pass --burst {len(nodes)}")
    for user in BURST_USERS:
        kinit(lab, user)
    hub = Hub(lab.labctl("url").stdout.strip(), lab.labctl("hub-token").stdout.strip())
    wait_no_drones(lab, 180)
    local, cold, warm = [], [], []

    def local_rounds(when):
        for round_ in range(args.rounds):
            local.append(spawn(hub, "alice", f"local-{when}{round_}", SITE_A))
            hub.stop("alice", f"local-{when}{round_}")

    # Not counted: the first spawn after the hub or a worker (re)started is
    # slower than any other, wherever it runs.
    spawn(hub, "alice", "warm-up", SITE_A)
    hub.stop("alice", "warm-up")
    # Local spawns before site A is filled and after it is emptied again, so
    # that the lab's drift over the run weighs on both sides.
    local_rounds("before")
    fill = lab.submit("bob", FILL).split(".")[0]
    try:
        wait_for(lambda: lab.exec("hub", "condor_q", fill, "-af", "JobStatus").stdout.split() == ["2", "2"],
                 60, "site A to be full")
        for round_ in range(args.rounds):
            wait_no_drones(lab, 180)
            cold.append(spawn(hub, "alice", f"cold{round_}", ANY_SITE))
            hub.stop("alice", f"cold{round_}")
            wait_no_drones(lab, 180)
            # An idle drone, as one started for a notebook that went elsewhere.
            lab.exec("sbctl", "runuser", "-u", "drone", "--", "sbatch", "--exclusive", "-N1", "--mem=2048mb",
                     "-t", "300", "-o", "/dev/null", "/usr/libexec/unchained-drone/drone")
            wait_for(lambda: drones(lab), 120, "an idle drone")
            warm.append(spawn(hub, "alice", f"warm{round_}", ANY_SITE))
            hub.stop("alice", f"warm{round_}")
        if args.burst:
            wait_no_drones(lab, 180)
            burst_ready, burst_peak, burst_machines = burst(lab, hub, args.burst)
        gone_since = time.monotonic()
        wait_no_drones(lab, 180)
        gone = time.monotonic() - gone_since
    finally:
        lab.exec("hub", "condor_rm", fill, user="bob", check=False)
    wait_for(lambda: not lab.exec("hub", "condor_q", fill, "-af", "JobStatus").stdout.split(), 60,
             "site A to be empty again")
    local_rounds("after")
    if args.rounds:
        report_rounds(local, cold, warm)
    if args.burst:
        say(f"{args.burst} notebooks at once: all ready after {burst_ready[-1]:.1f} s (first {burst_ready[0]:.1f} s, "
            f"median {statistics.median(burst_ready):.1f} s); {burst_peak} drones (Slurm jobs) at most; "
            f"{len(set(burst_machines))} machines for {args.burst} notebooks: {' '.join(sorted(burst_machines))}")
    say(f"no drone and no Slurm job left {gone:.0f} s after the last notebook stopped")


def report_rounds(local, cold, warm):
    m_local, m_cold, m_warm = (statistics.median(v) for v in (local, cold, warm))
    say(f"local spawn (site A, before and after): median {m_local:.1f} s of {[round(v, 1) for v in local]}")
    say(f"cold spawn through a new drone: median {m_cold:.1f} s of {[round(v, 1) for v in cold]}; "
        f"target <= 60 s: {'met' if m_cold <= 60 else 'NOT met'}")
    say(f"warm spawn on an idle drone: median {m_warm:.1f} s of {[round(v, 1) for v in warm]}; "
        f"{m_warm / m_local:.2f} x local; target <= 1.2 x: {'met' if m_warm <= 1.2 * m_local else 'NOT met'}")


if __name__ == "__main__":
    main()
