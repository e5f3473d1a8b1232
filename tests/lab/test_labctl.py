"""The labctl contract that later test suites build on."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from labtest import wait_for


def test_exec_passes_the_exit_status_through(lab):
    assert lab.exec("hub", "sh", "-c", "exit 7", check=False).returncode == 7


def test_exec_runs_as_a_user_in_their_home(lab):
    out = lab.exec("hub", "sh", "-c", 'id -un; pwd; echo "$HOME"', user="alice").stdout.split()
    assert out == ["alice", "/home/alice", "/home/alice"]


def test_status_lists_every_host_running_and_the_pool_ready(lab):
    out = lab.labctl("status").stdout
    for host in ("cm", "hub", "ex1", "ex2"):
        assert re.search(rf"^{host}\s+\S+\s+running\s+system=running condor=active converged$", out, re.M), out
    assert "pool: ready" in out


def test_unknown_host_is_a_clear_error(lab):
    result = lab.labctl("exec", "nosuch", "--", "true", check=False)
    assert result.returncode == 1
    assert "no lab host called 'nosuch'" in result.stderr


def lab_leftovers():
    """Processes, mounts, namespaces and links that belong to the lab."""
    state = os.environ.get("UNCHAINED_LAB_STATE", "/var/lib/unchained-lab")
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            root = os.readlink(proc / "root")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if "systemd-nspawn" in cmdline or root.startswith(state):
            found.append(f"process {proc.name}: {cmdline.strip()}")
    found += [f"mount {line.split()[1]}" for line in Path("/proc/mounts").read_text().splitlines()
              if line.split()[1].startswith(state)]
    netns = Path("/run/netns")
    found += [f"netns {p.name}" for p in netns.glob("unlab-*")] if netns.exists() else []
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    found += [f"link {m}" for m in re.findall(r"^\d+: (unlab[^:@]*)", links, re.M)]
    if Path(state).exists():
        found.append(f"state directory {state}")
    return found


@pytest.mark.disruptive(2)
def test_down_leaves_nothing_behind_and_up_works_again(lab):
    lab.labctl("down", timeout=300)
    assert lab_leftovers() == []
    lab.up()
    out = lab.exec("cm", "condor_status", "-startd", "-af", "MyAddress").stdout
    assert out.count("CCBID=") >= 2, out
    wait_for(lambda: "pool: ready" in lab.labctl("status").stdout, 10, "pool ready in status")


@pytest.mark.disruptive(1)
def test_a_service_restarted_on_one_host_is_restarted_there_only(lab):
    """Each host's units are its own (labkit/cgroups.py): restarting HTCondor
    on ex1 leaves the hub's and ex2's running as they were."""
    def started(host):
        return lab.exec(host, "systemctl", "show", "-p", "ExecMainPID", "-p", "ActiveEnterTimestamp",
                        "condor").stdout
    before = {host: started(host) for host in ("hub", "ex2", "ex1")}
    lab.exec("ex1", "systemctl", "restart", "condor")
    assert started("hub") == before["hub"] and started("ex2") == before["ex2"]
    assert started("ex1") != before["ex1"]
    lab.labctl("up")  # waits until the pool is ready again
