"""Scaling out to site B, measured on the running lab: a notebook's POST ->
ready through a drone, cold (no drone: the overlay manager starts one) and
warm (an idle drone waits), against a spawn on site A's own workers in the
same run; and that the drones are gone afterwards.

    /usr/bin/python3 tests/bench/scale_out.py [--rounds N]

Site A is filled first with two ordinary jobs of 64 cores each (bob's), so
that notebooks that may run at any site go to site B. Needs root (as labctl)
and the lab to itself. Prints the figures and the ratios; targets: cold <= 60
s, warm <= 1.2 x the local spawn. The lab's site B has one node, so one drone
at a time: notebooks requested together are served one after another (not
measured here).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parents[1] / "lab"
sys.path.insert(0, str(LAB_DIR))

from hubclient import Hub  # noqa: E402
from labtest import Lab, kinit, wait_for  # noqa: E402

ANY_SITE = {"cpus": 1, "memory_gb": 0.5, "disk_gb": 1, "runtime_hours": 1}
SITE_A = {"preset": "site-a"}
FILL = ("universe = vanilla\nexecutable = /bin/sleep\narguments = 3600\nrequest_cpus = 64\n"
        "request_memory = 64\nrequirements = UnchainedSite =?= \"lab\" && UnchainedDrone =!= true\nqueue 2\n")


def say(message):
    print(f"scale-out: {message}", flush=True)


def drones(lab):
    """Drones heard from in the last 10 s (a killed one's ad lingers in the collector)."""
    return lab.exec("hub", "condor_status", "-constraint", "UnchainedDrone =?= true && time() - LastHeardFrom < 10",
                    "-af", "Name", check=False).stdout.split()


def slurm_jobs(lab):
    return lab.exec("sbctl", "squeue", "-h", "-o", "%i").stdout.split()


def spawn(hub, user, name, options):
    started = time.monotonic()
    status, body = hub.start(user, name, options)
    if status not in (201, 202):
        raise SystemExit(f"scale-out: POST for {user}/{name} answered {status}: {body}")
    hub.wait_ready(user, name, timeout=300)
    return time.monotonic() - started


def stop(hub, user, name):
    hub.stop(user, name)


def no_drones(lab, timeout=180):
    wait_for(lambda: not drones(lab) and not slurm_jobs(lab), timeout, "no drone and no Slurm job at site B")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    lab = Lab()
    kinit(lab, "alice")
    kinit(lab, "bob")
    hub = Hub(lab.labctl("url").stdout.strip(), lab.labctl("hub-token").stdout.strip())
    no_drones(lab)
    local, cold, warm = [], [], []
    for round_ in range(args.rounds):
        local.append(spawn(hub, "alice", f"local{round_}", SITE_A))
        stop(hub, "alice", f"local{round_}")
    fill = lab.submit("bob", FILL).split(".")[0]
    try:
        wait_for(lambda: lab.exec("hub", "condor_q", fill, "-af", "JobStatus").stdout.split() == ["2", "2"],
                 60, "site A to be full")
        for round_ in range(args.rounds):
            no_drones(lab)
            cold.append(spawn(hub, "alice", f"cold{round_}", ANY_SITE))
            stop(hub, "alice", f"cold{round_}")
            no_drones(lab)
            # An idle drone, as one started for a notebook that went elsewhere.
            lab.exec("sbctl", "runuser", "-u", "drone", "--", "sbatch", "--exclusive", "-N1", "--mem=2048mb",
                     "-t", "300", "-o", "/dev/null", "/usr/libexec/unchained-drone/drone")
            wait_for(lambda: drones(lab), 120, "an idle drone")
            warm.append(spawn(hub, "alice", f"warm{round_}", ANY_SITE))
            stop(hub, "alice", f"warm{round_}")
        gone_since = time.monotonic()
        no_drones(lab)
        gone = time.monotonic() - gone_since
    finally:
        lab.exec("hub", "condor_rm", fill, user="bob", check=False)
    m_local, m_cold, m_warm = (statistics.median(v) for v in (local, cold, warm))
    say(f"local spawn (site A): median {m_local:.1f} s of {[round(v, 1) for v in local]}")
    say(f"cold spawn through a new drone: median {m_cold:.1f} s of {[round(v, 1) for v in cold]}; "
        f"target <= 60 s: {'met' if m_cold <= 60 else 'NOT met'}")
    say(f"warm spawn on an idle drone: median {m_warm:.1f} s of {[round(v, 1) for v in warm]}; "
        f"{m_warm / m_local:.2f} x local; target <= 1.2 x: {'met' if m_warm <= 1.2 * m_local else 'NOT met'}")
    say(f"no drone and no Slurm job left {gone:.0f} s after the last notebook stopped")


if __name__ == "__main__":
    main()
