"""Fixtures for tests that run on the site lab (see README.md in this folder)."""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

LAB_DIR = Path(__file__).resolve().parent
# The lab CA's certificate as the lab hosts see it (helpers that run on the hub).
GUEST_CA = "/etc/unchained-lab/secrets/ca.crt"
LABCTL = LAB_DIR / "labctl"
ARTIFACTS = Path(os.environ.get("UNCHAINED_LAB_ARTIFACTS", LAB_DIR.parent / "artifacts"))


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
PASSWORDS = {"alice": "alice-lab-password", "bob": "bob-lab-password", "carol": "carol-lab-password"}


def kinit(lab, user):
    """Give a user the ticket a login to the hub gives: the hub's schedd takes
    users' commands only with one (htcondor::user_kerberos)."""
    lab.exec("hub", "kinit", user, user=user, input=PASSWORDS[user] + "\n")


@pytest.fixture(scope="session")
def lab():
    lab = Lab()
    lab.up()
    return lab


@pytest.fixture
def hub(lab):
    """The lab's JupyterHub, through its REST API with the admin service's token
    (asked for each test: a lab brought down and up again has a new one)."""
    from hubclient import Hub
    return Hub(lab.labctl("url").stdout.strip(), lab.labctl("hub-token").stdout.strip())


@pytest.fixture
def servers(hub):
    """Servers a test starts, stopped afterwards whatever happened."""
    started = []
    yield started
    for user, name in started:
        try:
            if hub.server(user, name) is not None:
                hub.stop(user, name)
        except (AssertionError, OSError):
            pass


def pytest_collection_modifyitems(items):
    # Tests that restart daemons or tear the lab down run after the others,
    # in the order their marker gives.
    def rank(item):
        marker = item.get_closest_marker("disruptive")
        return 0 if marker is None else marker.args[0]
    items.sort(key=rank)


def pytest_configure(config):
    config.addinivalue_line("markers", "disruptive(order): restarts daemons or hosts; runs last, by order")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        target = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)
        subprocess.run([str(LABCTL), "collect", str(target)], capture_output=True, timeout=300)
        target.mkdir(parents=True, exist_ok=True)
        (target / "failure.txt").write_text(report.longreprtext + "\n")
        report.sections.append(("lab logs", f"daemon logs and queue state collected in {target}"))
