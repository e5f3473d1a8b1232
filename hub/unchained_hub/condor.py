"""HTCondor commands, run from argv lists, never through a shell.

`UserCondor` runs the commands that act for one user (submit, remove,
ssh-to-job) as that user through `sudo -n -u USER`, which the hub's sudo
rule allows for exactly these programs. Queries (`condor_q`,
`condor_history`) need no one's identity and run as the hub's own account.

Every call goes through a `runner` (by default `run`), so that transcript
tests can record the exact commands and feed back HTCondor's answers.
"""

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass

from . import commands
from .contract import ATTACH, TOKEN_NAME, is_username, safe
from .submit import SITE_OF_RUN

SUBMITTED = re.compile(r"^([0-9]+)\.0 - \1\.0$", re.MULTILINE)
QUERY_ATTRIBUTES = ("ClusterId", "Owner", "JobStatus", "RemoteHost", "HoldReason", "HoldReasonCode",
                    "HoldReasonSubCode", "NumJobStarts", "QDate", "EnteredCurrentStatus",
                    "JobCurrentStartDate", "JobDisconnectedDate", "UnchainedRuntime", "RequestMemory",
                    SITE_OF_RUN)


# What the hub reads of its query of all its jobs: some 400 bytes a job, but
# a user sets a held job's HoldReason (condor_hold -reason) to what they like.
# One user's long reasons must not fail the query for every server.
QUEUE_LIMIT = 64 * 1024 * 1024


class CondorError(RuntimeError):
    """An HTCondor command failed; the message says which and why."""


class TicketError(CondorError):
    """The schedd wants the user's Kerberos ticket (unchained_htcondor::user_kerberos)
    and the user has none that is valid."""


# What HTCondor's tools print when the schedd takes only Kerberos and the
# user's ticket is missing or expired.
KERBEROS_REFUSED = "Failed to authenticate using KERBEROS"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


# How many of the users' HTCondor commands the hub runs at once. Each one
# authenticates to the schedd (Kerberos with unchained_htcondor::user_kerberos), which
# serves them one at a time: 100 servers started at once on the lab made
# some 400 such commands within seconds, and the schedd failed dozens of them
# past their authentication deadline. Queued here, they all get through.
SCHEDD_COMMANDS_AT_ONCE = 8
_schedd_commands = asyncio.Semaphore(SCHEDD_COMMANDS_AT_ONCE)


def schedd_command_slot():
    """Hold one of the hub's slots for a user's HTCondor command (`async with`)."""
    return _schedd_commands


class OutputTooLarge(CondorError):
    """A command printed more than the hub reads (`commands.LIMIT`)."""


async def run(argv, stdin=None, timeout=60, limit=commands.LIMIT):
    """Run argv, feed it stdin (text), and return its `Result`."""
    try:
        code, out, err = await commands.run(argv, stdin.encode() if stdin is not None else None, timeout, limit)
    except asyncio.TimeoutError:
        raise CondorError(f"{_program(argv)} timed out after {timeout} s") from None
    except commands.OutputTooLarge as e:
        raise OutputTooLarge(
            f"{_program(argv)} {e}. If it runs your shell's start-up files (~/.bashrc, ~/.profile; "
            "condor_ssh_to_job runs them on the worker), make them print nothing when the shell is not "
            "interactive.") from None
    return Result(code, out.decode(errors="replace"), err.decode(errors="replace"))


def _program(argv):
    """The name of the program argv runs (through sudo, the one after `--`)."""
    words = argv[argv.index("--") + 1:] if "--" in argv else argv
    return words[0].rsplit("/", 1)[-1] if words else "?"


def _last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


# How much of a job's error output the spawn page shows.
ERROR_OUTPUT_TAIL = 4096


class UserCondor:
    """The HTCondor commands the hub runs as one user."""

    def __init__(self, user, *, bin_dir="/usr/bin", sudo="/usr/bin/sudo", runner=run):
        if not is_username(user):
            raise CondorError(f"user name {user!r} is not a valid system user name")
        self.user = user
        self.bin_dir = bin_dir
        self.runner = runner
        self._prefix = [sudo, "-n", "-H", "-u", user, "--"]

    def _argv(self, program, *args):
        path = program if program.startswith("/") else f"{self.bin_dir}/{program}"
        return [*self._prefix, path, *args]

    async def _call(self, program, *args, stdin=None, timeout=60, schedd=True):
        async with (schedd_command_slot() if schedd else contextlib.nullcontext()):
            result = await self.runner(self._argv(program, *args), stdin=stdin, timeout=timeout)
        if result.returncode != 0:
            name = program.rsplit('/', 1)[-1]
            if KERBEROS_REFUSED in result.stderr:
                raise TicketError(f"HTCondor refused {name} for {self.user}: the Kerberos ticket from your "
                                  "login is missing or has expired. Log out of the hub and log in again "
                                  "(that gets you a new ticket), then try again.")
            detail = _last_line(result.stderr) or _last_line(result.stdout) or f"exit status {result.returncode}"
            raise CondorError(f"{name} as {self.user} failed: {detail}")
        return result.stdout

    async def prepare(self, *directories):
        """Create the user's directories the job needs (0700), as the user."""
        await self._call("/usr/bin/mkdir", "-p", "-m", "0700", "--", *directories, schedd=False)

    async def fetch_token(self):
        """An IDTOKEN for the user, which condor_ssh_to_job needs to ask the
        central manager's connection broker to reach the job's worker."""
        await self._call("condor_token_fetch", "-token", TOKEN_NAME, timeout=30)

    async def submit(self, description):
        out = await self._call("condor_submit", "-terse", stdin=description, timeout=60)
        match = SUBMITTED.search(out)
        if not match:
            raise CondorError(f"condor_submit as {self.user}: unexpected answer {out.strip()[:200]!r}")
        return int(match.group(1))

    async def remove(self, cluster, force=False):
        """condor_rm; with `force`, -forcex: out of the queue although its
        shadow still waits for the job's worker."""
        try:
            await self._call("condor_rm", *(["-forcex"] if force else []), f"{int(cluster)}", timeout=30)
        except CondorError as e:
            # Already gone is what we wanted.
            if "not found" not in str(e) and "Couldn't find" not in str(e):
                raise

    async def hold(self, cluster):
        """condor_hold: HTCondor stops the job, copies its files back
        (`when_to_transfer_output = ON_EXIT_OR_EVICT`) and keeps it from
        starting again. condor_vacate_job would copy them too, but leaves the
        job idle, and the schedd may start it again at once on the same claim."""
        await self._call("condor_hold", f"{int(cluster)}", timeout=30)

    async def error_output(self, path):
        """The end (4 KiB) of a job's error output, read as the user: the hub
        cannot read their files itself."""
        return await self._call("/usr/bin/tail", "-c", str(ERROR_OUTPUT_TAIL), "--", path, timeout=15, schedd=False)

    async def ssh_to_job(self, cluster, *command, stdin=None, timeout=30):
        return await self._call("condor_ssh_to_job", f"{int(cluster)}.0", *command,
                                stdin=stdin, timeout=timeout)

    def tunnel_argv(self, cluster, ssh, launcher):
        """The command line of a server's session (see tunnel.py): `ssh` is the
        list of words condor_ssh_to_job runs as ssh (one word with spaces is
        quoted as condor_ssh_to_job's argument syntax wants), `launcher`
        runs `attach` in the job."""
        words = " ".join(f"'{word}'" if " " in word else word for word in ssh)
        return self._argv("condor_ssh_to_job", "-ssh", words, f"{int(cluster)}.0",
                          safe(launcher, "launcher"), ATTACH)


async def query_jobs(hub_id, *, bin_dir="/usr/bin", runner=run, timeout=30):
    """Every job of this hub in the schedd's queue: {cluster: ad}."""
    result = await runner(
        [f"{bin_dir}/condor_q", "-all", "-constraint", f'UnchainedHub == "{hub_id}"',
         "-attributes", ",".join(QUERY_ATTRIBUTES), "-json"], timeout=timeout, limit=QUEUE_LIMIT)
    if result.returncode != 0:
        raise CondorError(f"condor_q failed: {_last_line(result.stderr) or result.returncode}")
    ads = json.loads(result.stdout) if result.stdout.strip() else []
    return {ad["ClusterId"]: ad for ad in ads}


async def job_history(cluster, *, bin_dir="/usr/bin", runner=run, timeout=30):
    """The final ad of a job that left the queue, or None."""
    result = await runner(
        [f"{bin_dir}/condor_history", "-limit", "1", "-json", "-attributes",
         "ClusterId,JobStatus,ExitCode,RemoveReason,HoldReason,LastHoldReason,ExitBySignal",
         f"{int(cluster)}.0"], timeout=timeout)
    if result.returncode != 0 or not result.stdout.strip():
        return None
    ads = json.loads(result.stdout)
    return ads[0] if ads else None


async def fetch_own_token(*, bin_dir="/usr/bin", runner=run, timeout=30):
    """An IDTOKEN for the hub's own account, which `condor_q -better-analyze`
    needs to read the central manager's machine ads."""
    result = await runner([f"{bin_dir}/condor_token_fetch", "-token", TOKEN_NAME], timeout=timeout)
    if result.returncode != 0:
        raise CondorError(f"condor_token_fetch for the hub failed: {_last_line(result.stderr)}")


async def why_idle(cluster, *, bin_dir="/usr/bin", runner=run, timeout=30):
    """HTCondor's own explanation for an idle job, or None if it has none:
    (the first condition of the job's requirements that no slot satisfies,
    e.g. `TARGET.Memory >= RequestMemory`, or "" if every condition is met by
    some machine, just none free now; the line of `condor_q -better-analyze`
    that says so)."""
    result = await runner([f"{bin_dir}/condor_q", "-better-analyze", f"{int(cluster)}.0"],
                          timeout=timeout)
    if result.returncode != 0:
        return None
    for line in result.stdout.splitlines():
        match = re.match(r"^\s*\[\d+\]\s+0\s+(.+?)\s*$", line)
        if match:
            return match.group(1), line.strip()
    match = re.search(r"^.*\b0 are able to run your job.*$", result.stdout, re.M)
    if match:
        return "", match.group(0).strip()
    return None
