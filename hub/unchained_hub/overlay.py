"""What the overlay manager asks of the pool: how many drones a site should
have, from the notebook jobs that wait for one and the drones that are busy.

COBalD/TARDIS on its own raises demand when the drones it has are busy, and
with none it takes the pool for full: it never looks at the queue. The
overlay manager's controller (`overlay_controller.WaitingNotebooks`) asks
instead: one drone for every notebook job that waits and could run on a
drone of the site, one for every drone that runs a job, no more. A job
counts as waiting for a drone at once if it may run at drone sites only,
and otherwise once it has waited `patience` seconds, when the site's own
workers had their chance.

Standard library only (and placement.py, likewise): the overlay manager's
venv has no JupyterHub.
"""

import subprocess
from dataclasses import dataclass

from .placement import SITE_ID


@dataclass(frozen=True)
class DroneSite:
    """A site whose drones the overlay manager starts: what one drone offers."""

    site: str
    cores: int
    memory_mb: int
    walltime_seconds: int
    # A drone takes no job whose run time limit ends later than this before its own end.
    shutdown_margin: int
    patience: int = 60
    # A drone not heard from for this long is gone (killed before it could
    # say so), though the collector keeps its ad for a while.
    stale_after: int = 300
    # Drone sites other than this one, where a job restricted to drone sites may wait too.
    other_drone_sites: tuple = ()

    def __post_init__(self):
        for site in (self.site, *self.other_drone_sites):
            if not SITE_ID.fullmatch(site):
                raise ValueError(f"site {site!r} must match {SITE_ID.pattern}")
        for name in ("cores", "memory_mb", "walltime_seconds", "shutdown_margin", "patience", "stale_after"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of 0 or more, got {value!r}")

    def waiting_jobs(self):
        """The condor_q constraint for notebook jobs that wait for a drone here."""
        drones_only = " || ".join(f'UnchainedSites == "{site}"' for site in (self.site, *self.other_drone_sites))
        fits = " && ".join([
            f"RequestCpus <= {self.cores}",
            f"RequestMemory <= {self.memory_mb}",
            f"(UnchainedRuntime ?: 0) + {self.shutdown_margin} < {self.walltime_seconds}",
        ])
        return (f'JobStatus == 1 && UnchainedHub =!= undefined && ContainerImage =!= undefined && {fits} && '
                f'(UnchainedSites =?= "" || stringListMember("{self.site}", UnchainedSites)) && '
                f"({drones_only} || time() - EnteredCurrentStatus >= {self.patience})")

    def busy_drones(self):
        """The condor_status constraint for this site's drones that run a job."""
        return (f'UnchainedDrone =?= true && UnchainedSite =?= "{self.site}" && DynamicSlot =?= true '
                f'&& State == "Claimed" && time() - LastHeardFrom < {self.stale_after}')

    def demand(self, busy, waiting):
        """COBalD's demand (in cores, as TARDIS counts it) for `busy` drones and `waiting` jobs."""
        return (busy + waiting) * self.cores


def count(argv, timeout=60):
    """How many lines `argv` (condor_q or condor_status with -af) prints;
    CondorError if it fails. condor_q -global prints no line for no job."""
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CondorError(f"{argv[0]} gave no answer within {timeout} s") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
        raise CondorError(f"{argv[0]} failed: {last}")
    return sum(1 for line in result.stdout.splitlines() if line.strip() and not line.startswith("All queues"))


class CondorError(Exception):
    """A query of the pool failed; the message says which and why."""


def query_demand(drone_site, bin_dir="/usr/bin"):
    """(busy, waiting, demand) for drone_site, from the pool as it is now."""
    busy = count([f"{bin_dir}/condor_status", "-constraint", drone_site.busy_drones(), "-af", "Name"])
    waiting = count([f"{bin_dir}/condor_q", "-global", "-allusers", "-constraint", drone_site.waiting_jobs(),
                     "-af", "GlobalJobId"])
    return busy, waiting, drone_site.demand(busy, waiting)
