"""What the lab's tests and the bench (tests/bench) share: the lab through
labctl, its users' lab-only passwords, waiting on conditions, and probes and
helpers run on its hosts.

A module of its own rather than conftest.py, so that test files and the bench
import it by name; conftest.py keeps pytest's fixtures and hooks.
"""

import json
import os
import re
import subprocess
import time
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent
# The lab CA's certificate as the lab hosts see it (helpers that run on the hub).
GUEST_CA = "/etc/unchained-lab/secrets/ca.crt"
LABCTL = LAB_DIR / "labctl"
ARTIFACTS = Path(os.environ.get("UNCHAINED_LAB_ARTIFACTS", LAB_DIR.parent / "artifacts"))
# The hub's Python (JupyterHub's own), which has tornado for the guest helpers.
HUB_PYTHON = "/opt/jupyterhub/bin/python3"


class Lab:
    """Thin wrapper around `labctl`, the lab's only interface."""

    def labctl(self, *args, input=None, timeout=600, check=True):
        result = subprocess.run([str(LABCTL), *args], capture_output=True, text=True,
                                input=input, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"labctl {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}{result.stderr}")
        return result

    def exec(self, host, *argv, user=None, input=None, timeout=120, check=True):
        opts = ["--user", user] if user else []
        return self.labctl("exec", *opts, host, "--", *argv, input=input, timeout=timeout, check=check)

    def up(self):
        """Bring the lab up; alice and bob then hold the ticket a login to the
        hub gives (a host booted afresh has none)."""
        result = self.labctl("up", timeout=1800)
        for user in ("alice", "bob"):
            kinit(self, user)
        return result

    def submit(self, user, description):
        """Submit a job as user on hub; return its job id."""
        out = self.exec("hub", "condor_submit", "-terse", "-", user=user, input=description).stdout
        match = re.search(r"^(\d+)\.0", out, re.M)
        assert match, f"no job id in condor_submit output: {out!r}"
        return f"{match.group(1)}.0"

    def job_attr(self, job, attr):
        result = self.exec("hub", "condor_q", job, "-af", attr, check=False)
        return result.stdout.strip()

    def hub_helper(self, script, *args, params, timeout):
        """Run a guest helper (guest/SCRIPT, with its command-line `args`) on the
        hub with the hub's Python, `params` as one JSON line on stdin; its stdout."""
        source = (LAB_DIR / "guest" / script).read_text()
        return self.exec("hub", HUB_PYTHON, "-c", source, *args, input=json.dumps(params) + "\n",
                         timeout=timeout).stdout


def wait_for(predicate, timeout, what, interval=0.25):
    """Poll predicate until it returns something true; fail naming what was awaited."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


# The KDC's lab-only passwords (hiera/nodes/kdc.lab.test.yaml).
PASSWORDS = {user: f"{user}-lab-password" for user in ("alice", "bob", "carol", "dave", "erin", "frank")}


# Where the hub keeps users' tickets, a directory each (hiera/nodes/hub.lab.test.yaml).
CCACHE_DIR = "/run/krb5cc"


def kinit(lab, user):
    """Give a user the ticket a login to the hub gives: the hub's schedd takes
    users' commands only with one (unchained_htcondor::user_kerberos). As a login does,
    the hub's account first makes the user's ticket directory (auth.py)."""
    uid = int(lab.exec("hub", "id", "-u", user).stdout)
    lab.exec("hub", "runuser", "-u", "jupyterhub", "--", HUB_PYTHON, "-c",
             f"from unchained_hub import tickets; tickets.prepare_cache_dir({CCACHE_DIR!r}, {uid})")
    lab.exec("hub", "kinit", user, user=user, input=PASSWORDS[user] + "\n")


# -- connections between lab hosts -----------------------------------------------

PROBE = """
import socket, sys
from concurrent.futures import ThreadPoolExecutor

def probe(target):
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
        return "connected"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return type(e).__name__

targets = sys.argv[1:]
with ThreadPoolExecutor(len(targets)) as pool:
    for target, result in zip(targets, pool.map(probe, targets)):
        print(target, result)
"""


def connect_many(lab, src, targets):
    """Try every (host, port) of targets at once from src; map each to
    connected, timeout or the error."""
    out = lab.exec(src, "python3", "-c", PROBE, *(f"{host}:{port}" for host, port in targets)).stdout
    results = {}
    for line in out.splitlines():
        target, result = line.split()
        host, port = target.rsplit(":", 1)
        results[(host, int(port))] = result
    return results


def connect_all(lab, src, dst, ports):
    """Try every port at once from src; map each port to connected, timeout or the error."""
    return {port: result for (_, port), result in connect_many(lab, src, [(dst, p) for p in ports]).items()}


def connect(lab, src, dst, port):
    return connect_all(lab, src, dst, [port])[port]
