"""A skipped test fails the run, unless `allowed-skips.txt` lists it with its reason.

A test that is skipped proves nothing, yet pytest exits 0: a missing package
or host tool would let `make test` pass with part of it never run. These
hooks, loaded by `tests/conftest.py` (unit and lab tests) and
`container/tests/conftest.py`, turn the exit status into a failure for every
skip (an expected failure, xfail, counts as one too) that `allowed-skips.txt`
does not list, and name each. The lab's tests may not be listed at all: the
lab is the real thing, and what it needs is installed by `make test`.

`allowed-skips.txt`: one skip a line, its node id from the repository's top
(`container/tests/test_banner.py::test_name[param]`), then its reason;
`#` starts a comment.
"""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ALLOWED = Path(__file__).with_name("allowed-skips.txt")
NEVER_ALLOWED = "tests/lab/"
_PROBLEMS = pytest.StashKey()


def read_allowed(text):
    """{node id: reason} from the file's text; ValueError for a line without a
    reason or one that names a lab test."""
    allowed = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        node, _, reason = line.partition(" ")
        if not reason.strip():
            raise ValueError(f"{ALLOWED.name}:{number}: {node} has no reason")
        if node.startswith(NEVER_ALLOWED):
            raise ValueError(f"{ALLOWED.name}:{number}: {node}: the lab's tests may not be skipped")
        allowed[node] = reason.strip()
    return allowed


def repo_node_id(rootpath, nodeid):
    """A node id (relative to pytest's rootdir) relative to the repository's top."""
    path, sep, rest = nodeid.partition("::")
    try:
        path = (Path(rootpath) / path).resolve().relative_to(REPO).as_posix()
    except ValueError:
        path = (Path(rootpath) / path).resolve().as_posix()
    return path + sep + rest


def unlisted(skipped, allowed):
    """The (node id, why) of skips that `allowed` does not list."""
    return [(node, why) for node, why in skipped if node not in allowed]


def _why(report):
    if hasattr(report, "wasxfail"):
        return f"expected to fail (xfail) {report.wasxfail}".strip()
    if isinstance(report.longrepr, tuple):
        return report.longrepr[2].removeprefix("Skipped: ")
    return str(report.longrepr)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter else {}
    skipped = [(repo_node_id(session.config.rootpath, r.nodeid), _why(r))
               for key in ("skipped", "xfailed") for r in stats.get(key, [])]
    try:
        problems = unlisted(skipped, read_allowed(ALLOWED.read_text()))
    except ValueError as e:
        problems = [(str(e), "fix the list")]
    session.config.stash[_PROBLEMS] = problems
    if problems and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config):
    problems = config.stash.get(_PROBLEMS, [])
    if problems:
        terminalreporter.section("skips that fail the run", red=True)
        for node, why in problems:
            terminalreporter.line(f"{node}: {why}", red=True)
        terminalreporter.line(f"A skipped test fails the run unless {ALLOWED.relative_to(REPO)} lists it with "
                              "its reason (the lab's never): make it run, or list it there.")

