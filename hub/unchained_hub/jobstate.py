"""What a job's state means for its notebook server, and what the user is told.

Pure: a job ad in (from the hub's schedd query, `condor.QUERY_ATTRIBUTES`, or
from `condor_history`), a `Verdict` out: what the spawner does next and, where
the server cannot go on, the message the user reads on the spawn page or the
home page. The spawner acts (waits, connects, stops, removes); this module
only decides.
"""

import re
import time
from dataclasses import dataclass
from typing import Optional

from .options import form_value
from .submit import RUNTIME_ATTRIBUTE, RUNTIME_HOLD_SUBCODE

JOB_STATUS = {1: "idle", 2: "running", 3: "removed", 4: "completed", 5: "held",
              6: "transferring output", 7: "suspended"}
IDLE, RUNNING, HELD, REMOVED, COMPLETED, TRANSFERRING, SUSPENDED = 1, 2, 5, 3, 4, 6, 7

# Verdict states.
WAITING = "waiting"            # not running yet, or not any more: wait for the next answer
QUEUED = "queued"              # idle in the queue: waiting for a machine
STARTED = "started"            # running: the server can be reached (or is being)
GONE = "gone"                  # left the queue: `gone_message` says why, from its history
FAILED = "failed"              # cannot start: the message says why
RUNTIME_OVER = "runtime over"  # ran the time its user chose: stop it gracefully
ENDED = "ended"                # the server is gone with its run: the message says why


@dataclass(frozen=True)
class Verdict:
    state: str
    message: str = ""


def start_date(ad):
    """When the job's current run started (0 if the schedd does not say yet)."""
    return int(ad.get("JobCurrentStartDate") or 0)


def host(ad):
    """The worker a running job is on, as the user would name it."""
    return ad.get("RemoteHost", "?").split("@")[-1]


def same_run(ad, started):
    """Whether the job runs, and still the run that `started` (its start date,
    0 if unknown) named: an evicted job that starts again is a new run,
    without the server the hub was connected to."""
    if ad is None or ad.get("JobStatus") != RUNNING:
        return False
    return not started or start_date(ad) in (0, started)


def disconnected_for(ad, now=None):
    """Seconds the job's shadow has been cut off from its starter (0 if it is not):
    HTCondor on the worker died or cannot be reached, although the job may
    still run there, and its files can no longer come back."""
    since = ad.get("JobDisconnectedDate")
    if not since or ad.get("JobStatus") != RUNNING:
        return 0
    return (time.time() if now is None else now) - since


def runtime_over(ad, now=None):
    """Whether a running job has used up the run time its user chose."""
    started, runtime = ad.get("JobCurrentStartDate"), ad.get(RUNTIME_ATTRIBUTE)
    return bool(started and runtime) and (time.time() if now is None else now) - started > runtime


# HTCondor's hold code for a job that used more than it asked for (its cgroup's memory).
OUT_OF_RESOURCES = 34


def hold_reason(ad):
    """Why HTCondor held the job: in the user's words where the cause is
    known (HTCondor's own words then go to the hub's log), else HTCondor's."""
    reason = ad.get("HoldReason") or "no reason given"
    if ad.get("HoldReasonCode") == OUT_OF_RESOURCES and "memory" in reason and ad.get("RequestMemory"):
        asked = form_value("memory_gb", ad["RequestMemory"] / 1024)
        return f"it used more memory than the {asked:g} GB you asked for. Start again asking for more memory"
    return reason


def while_starting(ad, cluster):
    """The verdict on a job whose server is not up yet (`ad` None: not in the queue)."""
    status = None if ad is None else ad.get("JobStatus")
    if status in (None, REMOVED, COMPLETED):
        return Verdict(GONE)
    if status == HELD:
        return Verdict(FAILED, f"HTCondor held job {cluster}.0: {hold_reason(ad)}. "
                               "The job was removed; check your choices or ask the site admin.")
    if status == RUNNING:
        return Verdict(STARTED)
    if status == IDLE:
        return Verdict(QUEUED)
    return Verdict(WAITING)


def while_serving(ad, cluster, *, started, files_dir, now=None):
    """The verdict on a job in the queue whose server was up, in the run
    that started at `started`."""
    status = ad.get("JobStatus")
    server = f"Your server (job {cluster}.0)"
    if same_run(ad, started):
        if runtime_over(ad, now):
            hours = ad[RUNTIME_ATTRIBUTE] / 3600
            return Verdict(RUNTIME_OVER, f"{server} reached the run time you chose ({hours:g} h) and was "
                                         f"stopped; your files were copied back to ~/{files_dir}.")
        return Verdict(STARTED)
    if status == SUSPENDED:
        # HTCondor resumes it where it was: the server with it.
        return Verdict(STARTED)
    if status == HELD:
        if ad.get("HoldReasonSubCode") == RUNTIME_HOLD_SUBCODE:
            return Verdict(ENDED, f"{server} reached the run time you chose and was stopped by HTCondor.")
        return Verdict(ENDED, f"{server} was held by HTCondor: {hold_reason(ad)}")
    if status in (IDLE, RUNNING):
        # Idle again, or (if the hub looked too late) already running again
        # elsewhere: either way evicted, and the server went with that run.
        return Verdict(ENDED, f"{server} was evicted from its machine; your files were copied back "
                              f"to ~/{files_dir}.")
    if status == TRANSFERRING:
        return Verdict(ENDED, f"{server} ended; HTCondor is copying your files back to ~/{files_dir}.")
    return Verdict(ENDED, f"{server} is {JOB_STATUS.get(status, status)}.")


# HTCondor's words for what a job asks for -> how the user would say what they asked for.
_ASKED = (
    ("GPUs", lambda a: f"{a['gpus']:g} GPU{'s' if a['gpus'] != 1 else ''}"),
    ("Memory", lambda a: f"{a['memory_gb']:g} GB of memory"),
    ("Cpus", lambda a: f"{a['cpus']:g} CPU core{'s' if a['cpus'] != 1 else ''}"),
    ("Disk", lambda a: f"{a['disk_gb']:g} GB of disk"),
)


def idle_message(cluster, condition, asked):
    """Why an idle job waits, for the user, from HTCondor's explanation
    (`condor.why_idle`: the first condition no machine meets, "" if some
    machine meets each but none is free) and what the user asked for
    (`asked`: the form's fields, in its units)."""
    waiting = f"Job {cluster}.0 is still waiting:"
    if condition == "":
        return f"{waiting} every machine that could run it is busy. It starts when one is free."
    for word, said in _ASKED:
        if re.search(rf"\b{word}\b", condition):
            return (f"{waiting} no machine in the pool has the {said(asked)} you asked for. Press Stop Server, "
                    "then start again asking for less, or ask the site admin which machines have more.")
    return (f"{waiting} no machine in the pool meets its requirements. Press Stop Server and start again; "
            "if it waits again, ask the site admin.")


# Steps of taking a job out of the queue (`retire_step`).
DONE = "done"                  # it has left the queue
WAIT = "wait"                  # its files are on their way, or its server ends by itself
HOLD = "hold"                  # condor_hold: HTCondor stops it, copies its files back, starts it no more
REMOVE = "remove"              # condor_rm: nothing of it is left to lose (or nothing can be saved)
FORCE_REMOVE = "force remove"  # condor_rm -forcex: removed, but its shadow waits for a lost worker


@dataclass
class Retirement:
    """A job the hub is taking out of the queue, and how far it has got."""
    owner: str
    since: float                       # monotonic time the hub began
    grace: float = 0.0                 # seconds its server, asked to stop, may take to end by itself
    lost: bool = False                 # its worker is gone: its files cannot come back
    held_at: Optional[float] = None
    removed_at: Optional[float] = None
    retry_at: float = 0.0              # a step that failed is not tried again before this


def retire_step(ad, retirement, now, *, force_after, stuck_after, retry_after=30.0):
    """The next step in taking a job (its queue ad; None: gone) out of the
    queue without losing its files.

    A job whose shadow is attached (`RemoteHost` set, or transferring output)
    is never removed: removal would race the copy of its files. It is given
    `grace` to end by itself, then held, which copies its files back
    (`when_to_transfer_output = ON_EXIT_OR_EVICT`) and leaves it in the queue,
    not to start again, to be removed. Only a job whose worker is lost is removed at once, and forced
    out of the queue `force_after` seconds later: its shadow would otherwise
    wait for the worker as long as the job's lease lasts. A step that does not
    take effect is retried after `retry_after`; one stuck for `stuck_after`
    moves on (a graceful condor_rm copies the files too, should the shadow
    ever get to it).
    """
    if ad is None:
        return DONE
    r = retirement
    status = ad.get("JobStatus")
    if status == REMOVED:
        limit = force_after if r.lost else stuck_after
        return FORCE_REMOVE if now - (r.removed_at or now) >= limit else WAIT
    if r.removed_at is not None and now - r.removed_at < retry_after:
        return WAIT
    if r.lost:
        return REMOVE
    if ad.get("RemoteHost") or status == TRANSFERRING:
        if r.held_at is None:
            return HOLD if status in (RUNNING, SUSPENDED) and now - r.since >= r.grace else WAIT
        return REMOVE if now - r.held_at >= stuck_after else WAIT
    return REMOVE


def worker_lost_message(cluster, host, after, *, files_dir):
    """What the user is told when the worker of their running server stopped answering."""
    return (f"The machine running your server (job {cluster}.0), {host}, stopped answering for {after:g} s, "
            f"so your server was stopped. Changes made in ~/{files_dir} while it ran could not be copied "
            "back from that machine. Start a new server to go on; HTCondor runs it on a machine that answers.")


def gone_message(cluster, history, *, log_dir, while_starting=True, error_output=""):
    """Why a job left the queue, for the user, from its final ad (`history`,
    from condor_history; None if HTCondor has none) and the end of its error
    output (whose last line is quoted: it usually says what went wrong)."""
    history = history or {}
    reason = history.get("RemoveReason") or history.get("LastHoldReason") or history.get("HoldReason")
    if history.get("JobStatus") == COMPLETED:
        reason = reason or f"it exited with status {history.get('ExitCode')}"
    what = (f"Job {cluster}.0 ended before the server was ready" if while_starting
            else f"Your server (job {cluster}.0) ended")
    lines = [line.strip() for line in error_output.splitlines() if line.strip()]
    said = f' Its last words: "{lines[-1][:300]}".' if lines else ""
    return (f"{what}: {reason or 'no reason recorded'}.{said} "
            f"Its whole output is in ~/{log_dir}/job-{cluster}.err on the hub machine; if it does not say "
            "what to change, send it to the site admin.")
