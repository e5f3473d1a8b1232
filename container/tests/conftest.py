"""The container's tests, like those under tests/: a skipped test fails the
run unless tests/allowed-skips.txt lists it (tests/skips.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from skips import pytest_sessionfinish, pytest_terminal_summary  # noqa: E402, F401 (pytest finds them here)
