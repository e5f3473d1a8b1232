"""pytest's fixtures and hooks for the tests that run on the site lab (see README.md
in this folder); the helpers they share besides are in labtest.py."""

import re
import subprocess

import pytest
from labtest import ARTIFACTS, LABCTL, Lab


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
        save_browsers(item, target)
        report.sections.append(("lab logs", f"daemon logs and queue state collected in {target}"))


def save_browsers(item, target):
    """What each browser of a failed test showed: a screenshot, the page, and
    its console (JavaScript errors, failed websocket connections)."""
    # A test's browser is an argument, the first of a tuple, or a namespace's `driver`.
    drivers = [getattr(value, "driver", value) for value in
               (value[0] if isinstance(value, tuple) else value for value in item.funcargs.values())]
    for i, driver in enumerate(d for d in drivers if hasattr(d, "save_screenshot")):
        try:
            driver.save_screenshot(str(target / f"browser-{i}.png"))
            (target / f"browser-{i}.html").write_text(driver.page_source)
            console = "\n".join(f"{e['level']} {e['message']}" for e in driver.get_log("browser"))
            (target / f"browser-{i}-console.txt").write_text(f"{driver.current_url}\n{console}\n")
        except Exception as e:  # a browser that died says so instead
            (target / f"browser-{i}-error.txt").write_text(f"{type(e).__name__}: {e}\n")
