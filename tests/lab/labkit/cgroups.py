"""A cgroup of its own for each lab host.

systemd-nspawn with `--keep-unit` puts its container in a `payload` cgroup
below its own. Started from the same cgroup, every lab host would share one
`payload`, and so one tree of units: `systemctl restart condor` on one host
restarted HTCondor on all of them, and `systemctl kill condor` on a worker
killed the hub's schedd. Each nspawn therefore starts in a cgroup of its host
(`unchained-lab/NAME` in the unified hierarchy), and its container's units are
its own.
"""

import os
import time
from pathlib import Path

from . import config
from .run import run

MOUNT = Path("/run/unchained-lab/cgroup2")


def _unified_mount():
    """Where the unified (v2) hierarchy is mounted; mounted if it is nowhere
    (hosts with the v1 hierarchy, like the CI machine, do not mount it)."""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if fields[2] == "cgroup2":
            return Path(fields[1])
    MOUNT.mkdir(parents=True, exist_ok=True)
    run(["mount", "-t", "cgroup2", "none", MOUNT], step="mounting the unified cgroup hierarchy")
    return MOUNT


def host_cgroup(name):
    """The cgroup of lab host `name`, made if missing."""
    path = _unified_mount() / config.CGROUP_PARENT / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def join(path):
    """Move the calling process into the cgroup at path (for Popen's preexec_fn)."""
    with open(path / "cgroup.procs", "w") as procs:
        procs.write("0")


def remove(name):
    """Kill whatever is left in the host's cgroup and remove it."""
    path = _unified_mount() / config.CGROUP_PARENT / name
    if not path.exists():
        return
    kill = path / "cgroup.kill"
    if kill.exists():
        kill.write_text("1")
        deadline = time.monotonic() + 5
        while "populated 1" in (path / "cgroup.events").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    for sub in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        _rmdir(sub)
    _rmdir(path)


def _rmdir(path):
    try:
        os.rmdir(path)
    except OSError:
        pass  # still busy: left for the next `down`
