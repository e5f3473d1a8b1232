"""Running a command whose output a user controls, reading at most so much of it.

The hub runs commands as its users (through sudo: HTCondor's tools, mkdir,
kinit), and `condor_ssh_to_job` runs the user's shell start-up files in the
job, so a user decides what these commands print. `run` reads at most
`limit` bytes of each of a command's standard output and error; past that it
stops the command and raises `OutputTooLarge`, so the hub's memory does not
grow with what a user prints.

The pipes are the hub's own (asyncio's subprocess cannot close the pipes it
makes): once they are closed, a process that still writes to them, such as a
child of the user's that outlived sudo, gets EPIPE instead of blocking on a
pipe nobody reads.
"""

import asyncio
import contextlib
import os

# The default cap, for each of standard output and standard error. None of
# the hub's commands prints more than a few lines; the longest, the query of
# the whole hub's jobs, takes about 300 bytes a job.
LIMIT = 1024 * 1024


class OutputTooLarge(Exception):
    """A command printed more than the hub reads; the message says on which stream."""


class Process:
    """A command started by `start`: `stdin` (a StreamWriter, if asked for),
    `stdout` and `stderr` (StreamReaders on the hub's own pipes), asyncio's
    process for the rest, and `close`, which closes the pipes."""

    def __init__(self, process, stdout, stderr, pipes):
        self.process = process
        self.stdin = process.stdin
        self.stdout = stdout
        self.stderr = stderr
        self.pid = process.pid
        self._pipes = pipes

    @property
    def returncode(self):
        return self.process.returncode

    def wait(self):
        return self.process.wait()

    def terminate(self):
        self.process.terminate()

    def kill(self):
        self.process.kill()

    def close(self):
        """Close the pipes: the hub reads no more, and whoever writes gets EPIPE."""
        for transport in self._pipes:
            transport.close()


async def start(argv, *, stdin, start_new_session=False):
    """Start argv (from /), its standard input a pipe if `stdin` else
    /dev/null, its standard output and error pipes the hub can close."""
    loop = asyncio.get_running_loop()
    pipes, readers, ends = [], [], []
    try:
        for _ in range(2):
            read_end, write_end = os.pipe()
            ends.append(write_end)
            readers.append(asyncio.StreamReader())
            transport, _ = await loop.connect_read_pipe(
                lambda reader=readers[-1]: asyncio.StreamReaderProtocol(reader), os.fdopen(read_end, "rb", 0))
            pipes.append(transport)
        process = await asyncio.create_subprocess_exec(
            *argv, cwd="/", stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=ends[0], stderr=ends[1], start_new_session=start_new_session)
    except BaseException:
        for transport in pipes:
            transport.close()
        raise
    finally:
        for end in ends:
            os.close(end)
    return Process(process, *readers, pipes)


async def run(argv, stdin=None, timeout=60, limit=LIMIT):
    """Run argv, feed it stdin (bytes), and return (exit status, stdout, stderr).

    asyncio.TimeoutError after `timeout` seconds; OutputTooLarge past `limit`
    bytes on either stream. Either way the command is stopped first."""
    proc = await start(argv, stdin=stdin is not None)
    reads = [asyncio.ensure_future(_read_at_most(reader, limit)) for reader in (proc.stdout, proc.stderr)]
    try:
        return await asyncio.wait_for(_communicate(proc, stdin, reads, limit), timeout)
    finally:
        for task in reads:
            task.cancel()
        proc.close()
        await _end(proc)


async def _communicate(proc, stdin, reads, limit):
    if stdin is not None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(stdin)
            await proc.stdin.drain()
        proc.stdin.close()
    pending = set(reads)
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.result() is None:
                stream = "standard output" if task is reads[0] else "standard error"
                raise OutputTooLarge(f"printed more than {limit // 1024} KiB on its {stream}; "
                                     "the hub reads no more and stopped it")
    # Both pipes ended, as the process does.
    return await proc.wait(), reads[0].result(), reads[1].result()


async def _read_at_most(reader, limit):
    """What the reader gives until its end, or None once that is more than limit bytes."""
    data = bytearray()
    while chunk := await reader.read(64 * 1024):
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)


async def _end(proc):
    """End a command the hub no longer waits for: SIGTERM, which sudo passes on
    to the user's command, then SIGKILL (sudo keeps the hub's real uid, so the
    hub may signal it)."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 2)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
