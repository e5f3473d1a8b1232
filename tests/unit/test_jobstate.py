"""What a user is told when their job is idle, held, evicted, gone or over its
run time: decisions and words, over real ads from the lab (job_ads.json)."""

import json
from pathlib import Path

import pytest
from unchained_hub import jobstate
from unchained_hub.jobstate import ENDED, FAILED, GONE, QUEUED, RUNTIME_OVER, STARTED, WAITING

ADS = json.loads((Path(__file__).parent / "job_ads.json").read_text())
RUNNING = ADS["running"]
STARTED_AT = RUNNING["JobCurrentStartDate"]


def serving(ad, now=STARTED_AT + 60, started=STARTED_AT):
    return jobstate.while_serving(ad, ad["ClusterId"], started=started, files_dir="jupyter", now=now)


@pytest.mark.parametrize("name, state", [
    ("running", STARTED), ("idle", QUEUED), ("evicted", QUEUED), ("running again", STARTED),
])
def test_while_starting_follows_the_job(name, state):
    assert jobstate.while_starting(ADS[name], ADS[name]["ClusterId"]) == jobstate.Verdict(state)


def test_while_starting_a_job_that_left_the_queue_is_gone():
    assert jobstate.while_starting(None, 7).state == GONE
    assert jobstate.while_starting({**RUNNING, "JobStatus": 3}, 7).state == GONE
    assert jobstate.while_starting({**RUNNING, "JobStatus": 4}, 7).state == GONE


def test_while_starting_other_states_wait():
    assert jobstate.while_starting({**RUNNING, "JobStatus": 6}, 6).state == WAITING
    assert jobstate.while_starting({**RUNNING, "JobStatus": 7}, 6).state == WAITING


def test_while_starting_a_held_job_fails_with_its_reason():
    verdict = jobstate.while_starting(ADS["held"], 3)
    assert verdict == jobstate.Verdict(FAILED, "HTCondor held job 3.0: via condor_hold (by user alice). "
                                               "The job was removed; check your choices or ask the site admin.")


def test_the_host_and_start_of_a_running_job():
    assert jobstate.host(RUNNING) == "ex1.lab.test"
    assert jobstate.start_date(RUNNING) == STARTED_AT
    assert jobstate.start_date(ADS["idle"]) == 0


def test_a_server_in_its_run_is_left_alone():
    assert serving(RUNNING) == jobstate.Verdict(STARTED)
    # Before the hub knew when the run started, any run is the one.
    assert serving(RUNNING, started=0) == jobstate.Verdict(STARTED)


def test_a_server_past_its_run_time_is_stopped_and_told_why():
    verdict = serving(RUNNING, now=STARTED_AT + 3601)
    assert verdict == jobstate.Verdict(RUNTIME_OVER, "Your server (job 6.0) reached the run time you chose (1 h) "
                                                     "and was stopped; your files were copied back to ~/jupyter.")
    assert serving(RUNNING, now=STARTED_AT + 3599).state == STARTED


@pytest.mark.parametrize("name, message", [
    ("evicted", "Your server (job 6.0) was evicted from its machine; your files were copied back to ~/jupyter."),
    # Started again before the hub saw it idle: its server went with the first run.
    ("running again", "Your server (job 6.0) was evicted from its machine; your files were copied back to "
                      "~/jupyter."),
    ("held for its run time", "Your server (job 2.0) reached the run time you chose and was stopped by HTCondor."),
    ("held", "Your server (job 3.0) was held by HTCondor: via condor_hold (by user alice)"),
])
def test_a_server_whose_run_ended_is_told_why(name, message):
    assert serving(ADS[name], started=STARTED_AT) == jobstate.Verdict(ENDED, message)


def test_a_suspended_server_is_kept_and_one_copying_its_files_has_ended():
    assert serving({**RUNNING, "JobStatus": 7}) == jobstate.Verdict(STARTED)
    assert serving({**RUNNING, "JobStatus": 6}) == jobstate.Verdict(
        ENDED, "Your server (job 6.0) ended; HTCondor is copying your files back to ~/jupyter.")


def test_a_job_cut_off_from_its_starter_counts_from_when_the_schedd_says():
    assert jobstate.disconnected_for(RUNNING) == 0
    cut = {**RUNNING, "JobDisconnectedDate": STARTED_AT + 100}
    assert jobstate.disconnected_for(cut, now=STARTED_AT + 161) == 61
    # Only while it runs: an idle job's old date means nothing.
    assert jobstate.disconnected_for({**cut, "JobStatus": 1}, now=STARTED_AT + 161) == 0


def test_a_lost_worker_is_named_with_what_was_lost_and_what_to_do():
    assert jobstate.worker_lost_message(6, "ex1.lab.test", 60.0, files_dir="jupyter-b") == (
        "The machine running your server (job 6.0), ex1.lab.test, stopped answering for 60 s, so your server "
        "was stopped. Changes made in ~/jupyter-b while it ran could not be copied back from that machine. "
        "Start a new server to go on; HTCondor runs it on a machine that answers.")


# Retiring a job: (ad, how far the hub got, seconds since it began) -> the next step.
def retire(ad, *, since=0.0, grace=0.0, lost=False, held_at=None, removed_at=None, now=100.0):
    r = jobstate.Retirement("alice", since=since, grace=grace, lost=lost, held_at=held_at,
                            removed_at=removed_at)
    return jobstate.retire_step(ad, r, now, force_after=15, stuck_after=600)


@pytest.mark.parametrize("case, step", [
    ("a job that left the queue is done", retire(None)),
    ("a running job asked to stop ends by itself within its grace",
     retire(RUNNING, since=90, grace=30)),
    ("past its grace it is held, so its files come back", retire(RUNNING, since=0, grace=30)),
    ("a held job is left to copy its files", retire(RUNNING, held_at=95)),
    ("one copying its files is never removed", retire({**RUNNING, "JobStatus": 6})),
    ("a held job whose shadow still copies its files is not removed", retire(ADS["held"] | {"RemoteHost": "x"})),
    ("an idle job has nothing to lose", retire(ADS["idle"])),
    ("a held job without its shadow has nothing to lose", retire(ADS["held"])),
    ("a hold that never takes effect moves on", retire(RUNNING, held_at=100 - 601)),
    ("a lost worker's job is removed at once", retire(RUNNING, lost=True)),
    ("and not again while the removal takes effect", retire(RUNNING, lost=True, removed_at=95)),
    ("a removed job waits for its shadow", retire({**RUNNING, "JobStatus": 3}, lost=True, removed_at=90)),
    ("then, if its worker is lost, is forced out", retire({**RUNNING, "JobStatus": 3}, lost=True, removed_at=80)),
    ("otherwise only when stuck", retire({**RUNNING, "JobStatus": 3}, removed_at=80)),
])
def test_retiring_a_job_never_races_the_copy_of_its_files(case, step):
    expected = {
        "a job that left the queue is done": jobstate.DONE,
        "past its grace it is held, so its files come back": jobstate.HOLD,
        "an idle job has nothing to lose": jobstate.REMOVE,
        "a held job without its shadow has nothing to lose": jobstate.REMOVE,
        "a hold that never takes effect moves on": jobstate.REMOVE,
        "a lost worker's job is removed at once": jobstate.REMOVE,
        "then, if its worker is lost, is forced out": jobstate.FORCE_REMOVE,
    }.get(case, jobstate.WAIT)
    assert step == expected


WHOLE = "whole output is in ~/.jupyterhub-unchained/job-{}.err on the hub machine; if it does not say " \
        "what to change, send it to the site admin."


@pytest.mark.parametrize("name, starting, output, message", [
    ("history: removed", True, "",
     "Job 1.0 ended before the server was ready: via condor_rm (by user alice). Its " + WHOLE.format(1)),
    ("history: removed after a hold", False, "",
     "Your server (job 2.0) ended: via condor_rm (by user alice). Its " + WHOLE.format(2)),
    # The last line of its error output is what usually says what went wrong.
    ("history: completed", True, "loading jupyter/2026.11\nModuleNotFoundError: No module named 'jupyterlab'\n\n",
     "Job 5.0 ended before the server was ready: it exited with status 0. Its last words: "
     "\"ModuleNotFoundError: No module named 'jupyterlab'\". Its " + WHOLE.format(5)),
])
def test_why_a_job_left_the_queue(name, starting, output, message):
    ad = ADS[name]
    assert jobstate.gone_message(ad["ClusterId"], ad, log_dir=".jupyterhub-unchained",
                                 while_starting=starting, error_output=output) == message


def test_a_job_without_history_says_so():
    assert jobstate.gone_message(9, None, log_dir="logs", while_starting=False) == (
        "Your server (job 9.0) ended: no reason recorded. Its whole output is in ~/logs/job-9.err on the hub "
        "machine; if it does not say what to change, send it to the site admin.")


@pytest.mark.parametrize("condition, message", [
    ("TARGET.GPUs >= RequestGPUs", "no machine in the pool has the 1 GPU you asked for. Press Stop Server, then "
                                   "start again asking for less, or ask the site admin which machines have more."),
    ("TARGET.Memory >= RequestMemory", "no machine in the pool has the 2.5 GB of memory you asked for."),
    ("TARGET.Cpus >= RequestCpus", "no machine in the pool has the 4 CPU cores you asked for."),
    ("TARGET.Disk >= RequestDisk", "no machine in the pool has the 20 GB of disk you asked for."),
    ('(TARGET.Machine =!= "ex1.lab.test")', "no machine in the pool meets its requirements. Press Stop Server"),
    ("", "every machine that could run it is busy. It starts when one is free."),
])
def test_why_a_job_waits_in_the_forms_words(condition, message):
    """HTCondor's condition names its own attributes and units (MB, KiB); the
    user reads what they asked for, as the form asked it."""
    asked = {"cpus": 4, "memory_gb": 2.5, "disk_gb": 20, "gpus": 1, "runtime_hours": 8}
    text = jobstate.idle_message(7, condition, asked)
    assert text.startswith("Job 7.0 is still waiting: ") and message in text, text
    assert "TARGET" not in text and "Request" not in text


def test_a_server_over_its_memory_is_told_in_the_forms_units():
    """HTCondor's reason speaks of megabytes and request_memory; the user asked in GB."""
    reason = ("Job has gone over cgroup memory limit of 512 megabytes. Last measured usage: 530 megabytes.  "
              "Consider resubmitting with a higher request_memory.")
    ad = {**ADS["held"], "HoldReasonCode": 34, "HoldReason": reason, "RequestMemory": 512}
    verdict = serving(ad, started=STARTED_AT)
    assert verdict.state == ENDED
    assert verdict.message == ("Your server (job 3.0) was held by HTCondor: it used more memory than the 0.5 GB "
                               "you asked for. Start again asking for more memory"), verdict.message
    starting = jobstate.while_starting(ad, 3)
    assert starting.state == jobstate.FAILED and "more memory than the 0.5 GB you asked for" in starting.message
