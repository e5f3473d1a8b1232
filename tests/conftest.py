"""Hooks for every test under tests/ (unit and lab): a skipped test fails
the run unless allowed-skips.txt lists it (skips.py)."""

from skips import pytest_sessionfinish, pytest_terminal_summary  # noqa: F401 (pytest finds them here)
