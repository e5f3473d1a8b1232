"""Everything needed to understand a failure without rerunning it."""

import re
import shutil
from pathlib import Path

COMMANDS = {
    "condor_status.txt": ["condor_status", "-any", "-af", "MyType", "Name", "MyAddress"],
    "condor_q.txt": ["condor_q", "-all", "-nobatch"],
    "condor_q-long.txt": ["condor_q", "-all", "-l"],
    "condor_history.txt": ["condor_history", "-limit", "20"],
    "condor_config.txt": ["condor_config_val", "-summary"],
    "journal.txt": ["journalctl", "--no-pager", "-b", "-n", "2000"],
    "failed-units.txt": ["systemctl", "--failed", "--no-pager"],
    "ip.txt": ["ip", "addr"],
}


def collect(machines, directory):
    directory = Path(directory)
    for m in machines:
        target = directory / m.host.name
        target.mkdir(parents=True, exist_ok=True)
        for log in m.dir.glob("*.log"):
            shutil.copy(log, target / log.name)
        if not m.is_running():
            (target / "NOT-RUNNING").write_text("host was not running\n")
            continue
        for logs, name in (("var/log/condor", "condor-logs"), ("var/log/slurm", "slurm-logs"),
                           ("var/log/cobald", "cobald-logs")):
            if (m.root / logs).is_dir():
                shutil.copytree(m.root / logs, target / name, dirs_exist_ok=True)
        copy_job_output(m.root / "var/lib/condor/execute", target)
        # Drones (site B): each one's HTCondor logs and its jobs' output.
        for drone in (m.root / "var/lib/unchained-drone").glob("*/"):
            if (drone / "log").is_dir():
                shutil.copytree(drone / "log", target / f"drone-{drone.name}", dirs_exist_ok=True)
            copy_job_output(drone / "execute", target)
        for name, argv in COMMANDS.items():
            result = m.exec(argv, capture=True, timeout=30)
            (target / name).write_text(f"$ {' '.join(argv)}\n(exit {result.returncode})\n"
                                       f"{result.stdout}{result.stderr}")


def copy_job_output(execute_dir, target):
    """The output of the jobs running there (the notebook server's log, with its
    kernels' and the launcher's messages), as job-CLUSTER.out/.err."""
    for ad in execute_dir.glob("dir_*/.job.ad"):
        match = re.search(r"^ClusterId = (\d+)$", ad.read_text(errors="replace"), re.MULTILINE)
        if not match:
            continue
        for stream, suffix in (("_condor_stdout", "out"), ("_condor_stderr", "err")):
            if (ad.parent / stream).is_file():
                shutil.copy(ad.parent / stream, target / f"job-{match.group(1)}.{suffix}")
