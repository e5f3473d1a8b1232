"""Commands whose output a user controls, read with a cap (commands.py), and
the errors the hub's HTCondor commands give for them (condor.run). Real
processes, no mocks."""

import asyncio
import os
import sys
import time
import tracemalloc

import pytest
from unchained_hub import commands, condor

HUNDRED_MB = 100 * 1024 * 1024
PRINT = "import sys, os; chunk = b'x' * 65536\nfor _ in range({n} // 65536): os.write({fd}, chunk)"


def printing(megabytes, fd=1):
    return [sys.executable, "-c", PRINT.format(n=megabytes * 1024 * 1024, fd=fd)]


def peak_while(coro):
    """The coroutine's outcome (result or exception) and the peak of Python's
    allocations meanwhile, in bytes."""
    tracemalloc.start()
    try:
        try:
            outcome = asyncio.run(coro)
        except Exception as e:
            outcome = e
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fd, stream", [(1, "standard output"), (2, "standard error")])
def test_a_command_printing_100_mb_is_cut_off_at_the_cap(fd, stream):
    started = time.monotonic()
    error, peak = peak_while(condor.run(printing(100, fd)))
    assert isinstance(error, condor.OutputTooLarge), error
    assert str(error).startswith(f"{os.path.basename(sys.executable)} printed more than 1024 KiB on its {stream}; "
                                 "the hub reads no more and stopped it. If it runs your shell's start-up files"), \
        str(error)
    # Read up to the cap (1 MiB) and a chunk past it; nothing like 100 MB.
    assert peak < 3 * 1024 * 1024, peak
    assert time.monotonic() - started < 10


def test_the_message_names_the_program_sudo_runs():
    argv = ["/usr/bin/sudo", "-n", "-u", "alice", "--", "/usr/bin/condor_ssh_to_job", "9.0", "stop"]
    assert condor._program(argv) == "condor_ssh_to_job"
    assert condor._program(["/usr/bin/condor_q", "-all"]) == "condor_q"


def test_output_up_to_the_cap_is_read_whole_with_the_exit_status():
    code, out, err = asyncio.run(commands.run(
        [sys.executable, "-c", "import sys; data = sys.stdin.buffer.read(); sys.stdout.buffer.write(data * 4); "
                               "sys.stderr.write('done'); sys.exit(3)"],
        stdin=b"a" * 1024, limit=4096))
    assert (code, out, err) == (3, b"a" * 4096, b"done")
    with pytest.raises(commands.OutputTooLarge, match="more than 4 KiB on its standard output"):
        asyncio.run(commands.run([sys.executable, "-c", "print('a' * 4096)"], limit=4096))


def test_a_command_that_ignores_sigterm_and_closed_pipes_is_killed():
    started = time.monotonic()
    with pytest.raises(commands.OutputTooLarge):
        asyncio.run(commands.run(["sh", "-c", "trap '' TERM PIPE; while :; do echo noise; done 2>/dev/null"],
                                 limit=1024))
    # SIGTERM, 2 s, then SIGKILL; run() returns once the process is gone.
    assert 2 <= time.monotonic() - started < 10


def test_a_child_that_outlives_the_command_gets_a_closed_pipe(tmp_path):
    """Like a user's process that sudo leaves behind: once the hub stops
    reading, its writes fail (EPIPE) instead of blocking forever."""
    pidfile = tmp_path / "pid"
    with pytest.raises(commands.OutputTooLarge):
        asyncio.run(commands.run(
            ["sh", "-c", f"(trap '' TERM; sh -c 'echo $$ > {pidfile}; exec yes') & wait"], limit=64 * 1024))
    pid = int(pidfile.read_text())  # written before the child's first line
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{pid}") and _state(pid) != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}") or _state(pid) == "Z", f"yes ({pid}) still runs"


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_a_command_that_takes_too_long_is_stopped_and_named():
    with pytest.raises(condor.CondorError, match=r"^sleep timed out after 0.5 s$"):
        asyncio.run(condor.run(["sleep", "30"], timeout=0.5))
