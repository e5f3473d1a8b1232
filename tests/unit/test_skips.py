"""A skipped test fails the run unless tests/allowed-skips.txt lists it (tests/skips.py)."""

import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
import skips  # noqa: E402

CONFTEST = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
from skips import pytest_sessionfinish, pytest_terminal_summary
"""


def run_pytest(tmp_path, source):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_some.py").write_text(source)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_a_skipped_test_fails_the_run_and_is_named_with_its_reason(tmp_path):
    result = run_pytest(tmp_path, "import pytest\n\ndef test_ok():\n    pass\n\n"
                                  "def test_skipped():\n    pytest.skip('no frobnicator on this machine')\n\n"
                                  "@pytest.mark.xfail(reason='not yet')\ndef test_xfail():\n    assert False\n")
    assert result.returncode == 1, result.stdout
    assert "skips that fail the run" in result.stdout
    assert "test_some.py::test_skipped: no frobnicator on this machine" in result.stdout
    assert "test_some.py::test_xfail: expected to fail (xfail) not yet" in result.stdout


def test_a_module_skipped_at_collection_fails_the_run(tmp_path):
    result = run_pytest(tmp_path, "import pytest\nselenium = pytest.importorskip('no_such_module_here', "
                                  "reason='install it')\n\ndef test_x():\n    pass\n")
    assert result.returncode != 0, result.stdout
    assert "test_some.py: install it" in result.stdout


def test_a_run_without_skips_passes(tmp_path):
    result = run_pytest(tmp_path, "def test_ok():\n    pass\n")
    assert result.returncode == 0, result.stdout
    assert "skips that fail the run" not in result.stdout


def test_listed_skips_pass_and_unlisted_ones_do_not():
    allowed = skips.read_allowed("# comment\ncontainer/tests/test_a.py::test_b[sh]  needs sh  # really\n")
    assert allowed == {"container/tests/test_a.py::test_b[sh]": "needs sh"}
    found = [("container/tests/test_a.py::test_b[sh]", "no sh"), ("tests/unit/test_c.py::test_d", "why")]
    assert skips.unlisted(found, allowed) == [("tests/unit/test_c.py::test_d", "why")]


@pytest.mark.parametrize("line, error", [
    ("tests/lab/test_browser.py some reason", "the lab's tests may not be skipped"),
    ("tests/unit/test_c.py::test_d", "has no reason"),
])
def test_a_lab_test_or_a_skip_without_reason_cannot_be_listed(line, error):
    with pytest.raises(ValueError, match=error):
        skips.read_allowed(line + "\n")


def test_the_list_in_the_repository_is_valid():
    skips.read_allowed(skips.ALLOWED.read_text())


def test_node_ids_are_named_from_the_repository_top():
    assert skips.repo_node_id(TESTS, "lab/test_browser.py::test_x") == "tests/lab/test_browser.py::test_x"
    assert skips.repo_node_id(TESTS.parent / "container", "tests/test_banner.py::test_y[sh]") == \
        "container/tests/test_banner.py::test_y[sh]"
