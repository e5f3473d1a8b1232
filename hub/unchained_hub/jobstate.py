"""What a job's state means for its notebook server, and what the user is told.

Pure: a job ad in (from the hub's schedd query, `condor.QUERY_ATTRIBUTES`, or
from `condor_history`), a `Verdict` out: what the spawner does next and, where
the server cannot go on, the message the user reads on the spawn page or the
home page. The spawner acts (waits, connects, stops, removes); this module
only decides.
"""

import time
from dataclasses import dataclass

from .submit import RUNTIME_ATTRIBUTE, RUNTIME_HOLD_SUBCODE

JOB_STATUS = {1: "idle", 2: "running", 3: "removed", 4: "completed", 5: "held",
              6: "transferring output", 7: "suspended"}
IDLE, RUNNING, HELD, REMOVED, COMPLETED = 1, 2, 5, 3, 4

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


def runtime_over(ad, now=None):
    """Whether a running job has used up the run time its user chose."""
    started, runtime = ad.get("JobCurrentStartDate"), ad.get(RUNTIME_ATTRIBUTE)
    return bool(started and runtime) and (time.time() if now is None else now) - started > runtime


def while_starting(ad, cluster):
    """The verdict on a job whose server is not up yet (`ad` None: not in the queue)."""
    status = None if ad is None else ad.get("JobStatus")
    if status in (None, REMOVED, COMPLETED):
        return Verdict(GONE)
    if status == HELD:
        return Verdict(FAILED, f"HTCondor held job {cluster}.0: {ad.get('HoldReason')}. "
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
    if status == HELD:
        if ad.get("HoldReasonSubCode") == RUNTIME_HOLD_SUBCODE:
            return Verdict(ENDED, f"{server} reached the run time you chose and was stopped by HTCondor.")
        return Verdict(ENDED, f"{server} was held by HTCondor: {ad.get('HoldReason')}")
    if status in (IDLE, RUNNING):
        # Idle again, or (if the hub looked too late) already running again
        # elsewhere: either way evicted, and the server went with that run.
        return Verdict(ENDED, f"{server} was evicted from its machine; your files were copied back "
                              f"to ~/{files_dir}.")
    return Verdict(ENDED, f"{server} is {JOB_STATUS.get(status, status)}.")


def gone_message(cluster, history, *, log_dir, while_starting=True):
    """Why a job left the queue, for the user, from its final ad (`history`,
    from condor_history; None if HTCondor has none)."""
    history = history or {}
    reason = history.get("RemoveReason") or history.get("LastHoldReason") or history.get("HoldReason")
    if history.get("JobStatus") == COMPLETED:
        reason = reason or f"it exited with status {history.get('ExitCode')}"
    what = (f"Job {cluster}.0 ended before the server was ready" if while_starting
            else f"Your server (job {cluster}.0) ended")
    return (f"{what}: {reason or 'no reason recorded'}. "
            f"Its output is in ~/{log_dir}/job-{cluster}.err.")
