"""The hub's limits, held by its schedd: a user's own ticket lets her submit
or edit jobs past the hub, so the hub's schedd enforces the same limits for
the jobs that carry the hub's marker (unchained_htcondor::notebook_limits, from the
same Hiera data as the hub's). The limits expected here are read from the
lab's Hiera data, as Puppet reads them."""

import pytest
import yaml
from hubclient import job_of, jobs_of, left_queue, spawn
from labtest import LAB_DIR, kinit, wait_for

SPAWNER = yaml.safe_load((LAB_DIR / "hiera/nodes/hub.lab.test.yaml").read_text())[
    "unchained_hub::config"]["UnchainedSpawner"]
HUB_ID = SPAWNER["hub_id"]
LIMITS = {field: limit["max"] for field, limit in SPAWNER["resource_limits"].items()}
MAX_CPUS = int(LIMITS["cpus"])
MAX_MEMORY_MB = round(LIMITS["memory_gb"] * 1024)
MAX_RUNTIME = round(LIMITS["runtime_hours"] * 3600)
# The hold subcode of a run time that has passed (hub/unchained_hub/submit.py).
RUNTIME_HOLD_SUBCODE = "4701"


def marked(**values):
    """A submit description of a job marked as the hub's, within its limits
    unless `values` say otherwise (None leaves a command out)."""
    commands = {"executable": "/bin/sleep", "arguments": "600", "request_memory": "100",
                "+UnchainedHub": f'"{HUB_ID}"', "+UnchainedRuntime": "600",
                "+UnchainedEnvironment": '"lab-venv"'}
    commands.update(values)
    return "".join(f"{key} = {value}\n" for key, value in commands.items() if value is not None) + "queue\n"


def raw(lab, job, *attrs):
    """The job's attributes as they are written in its ad (expressions unevaluated)."""
    return lab.exec("hub", "condor_q", job, "-af:r", *attrs).stdout.split()


def sched_log(lab):
    return lab.exec("hub", "cat", "/var/log/condor/SchedLog").stdout


# -- condor_qedit of a notebook job -----------------------------------------------

EDITS = [
    ("UnchainedRuntime", str(MAX_RUNTIME * 10)),     # run time
    ("JobCurrentStartDate", "time() + 86400"),       # ... and the start it counts from
    ("PeriodicHold", "false"),                        # hold policy
    ("PeriodicHoldSubCode", "0"),
    ("RequestCpus", str(MAX_CPUS * 8)),               # requests
    ("RequestMemory", str(MAX_MEMORY_MB * 8)),
    ("RequestGPUs", "8"),
    ("UnchainedEnvironment", '"anything"'),
]


def test_owner_cannot_edit_her_notebook_jobs_limits(lab, hub, servers):
    """alice's condor_qedit of her running notebook job's run time, hold policy
    and requests is refused by the schedd, which says why in its log; the job
    keeps its values, and the hub still stops it."""
    kinit(lab, "alice")
    spawn(hub, servers, "alice", "limits")
    cluster = job_of(hub, "alice", "limits")["cluster"]
    job = f"{cluster}.0"
    attrs = [attr for attr, _ in EDITS] + ["UnchainedHub"]
    before = raw(lab, job, *attrs)
    for attr, value in EDITS:
        result = lab.exec("hub", "condor_qedit", job, attr, value, user="alice", check=False)
        assert result.returncode != 0, f"alice set {attr} = {value}: {result.stdout}"
        assert f'Failed to set attribute "{attr}"' in result.stdout + result.stderr, result
        assert (f"SetAttribute of protected attribute denied, RealOwner=alice EffectiveOwner=alice "
                f"AllowPAttrchange=true Attr={attr} in job {job}") in sched_log(lab)
    result = lab.exec("hub", "condor_qedit", job, "UnchainedHub", '"elsewhere"', user="alice", check=False)
    assert result.returncode != 0
    assert 'Update of immutable attribute "UnchainedHub" is not allowed' in result.stdout + result.stderr, result
    assert raw(lab, job, *attrs) == before
    # The refusals cost the job nothing, and stop the hub from nothing.
    assert lab.job_attr(job, "JobStatus") == "2"
    status, _ = hub.user_api("alice", "api/status", "limits")
    assert status == 200
    hub.stop("alice", "limits")
    wait_for(lambda: left_queue(lab, "alice", [cluster]), 60, f"job {job} to leave the queue")


# -- condor_submit of a marked job ------------------------------------------------

@pytest.mark.parametrize(("values", "words"), [
    ({"request_memory": MAX_MEMORY_MB + 1},
     [f"notebook job of the hub {HUB_ID}", f"may ask for at most {MAX_CPUS} CPU cores, {MAX_MEMORY_MB} MB of "
      f"memory", f"it asks for 1 cores, {MAX_MEMORY_MB + 1} MB", "Ask for less, or leave UnchainedHub out"]),
    ({"request_cpus": MAX_CPUS + 1}, [f"it asks for {MAX_CPUS + 1} cores"]),
    ({"+UnchainedRuntime": MAX_RUNTIME + 1},
     [f"run time in seconds as UnchainedRuntime, at most {MAX_RUNTIME}", f"it gives {MAX_RUNTIME + 1}."]),
    ({"+UnchainedRuntime": None}, ["it gives none."]),
    ({"+UnchainedEnvironment": '"not-offered"'},
     [f"name one of its environments as UnchainedEnvironment: {', '.join(SPAWNER['environments'])}."]),
    ({"+UnchainedHub": '"hub.elsewhere.test"'},
     [f"UnchainedHub marks the notebook jobs of the hub {HUB_ID} and can have no other value"]),
], ids=["memory", "cpus", "runtime", "no-runtime", "environment", "other-hub"])
def test_marked_job_past_the_limits_is_refused_with_the_reason(lab, values, words):
    kinit(lab, "alice")
    before = jobs_of(lab, "alice")
    result = lab.exec("hub", "condor_submit", "-terse", "-", user="alice", input=marked(**values), check=False)
    assert result.returncode != 0, result.stdout
    message = " ".join((result.stdout + result.stderr).split())
    for phrase in words:
        assert phrase in message, message
    assert jobs_of(lab, "alice") == before


def test_marked_jobs_values_are_fixed_when_submitted(lab):
    """A request that would grow once matched (the machine's memory) is taken at
    its value when submitted, and a marker that only appears later never does."""
    kinit(lab, "alice")
    grows = lab.submit("alice", marked(request_memory="ifThenElse(isUndefined(Memory), 100, Memory)"))
    late = lab.submit("alice", marked(**{"+UnchainedHub": f'ifThenElse(time() > QDate + 3, "{HUB_ID}", undefined)',
                                         "request_memory": 100000}))
    try:
        assert raw(lab, grows, "RequestMemory", "UnchainedHub") == ["100", f'"{HUB_ID}"']
        assert raw(lab, late, "UnchainedHub") == ["undefined"]
    finally:
        lab.exec("hub", "condor_rm", grows, late, user="alice", check=False)


# -- ordinary jobs ----------------------------------------------------------------

def test_ordinary_jobs_keep_their_batch_rights(lab):
    """An unmarked job of alice's asks for more than a notebook may and runs to
    its end; another is edited, held, released and removed as before, but
    cannot be made a notebook job."""
    kinit(lab, "alice")
    done = lab.submit("alice", f"executable = /bin/echo\narguments = ordinary\nrequest_cpus = {MAX_CPUS + 1}\n"
                               f"request_memory = {MAX_MEMORY_MB * 2}\noutput = ordinary-$(ClusterId).out\n"
                               "should_transfer_files = YES\nqueue\n")
    other = lab.submit("alice", "executable = /bin/sleep\narguments = 600\nhold = true\nqueue\n")
    try:
        lab.exec("hub", "condor_qedit", other, "JobPrio", "5", user="alice")
        result = lab.exec("hub", "condor_qedit", other, "UnchainedHub", f'"{HUB_ID}"', user="alice", check=False)
        assert result.returncode != 0 and "immutable" in result.stdout + result.stderr, result
        lab.exec("hub", "condor_release", other, user="alice")
        assert raw(lab, other, "JobPrio") == ["5"]
        lab.exec("hub", "condor_rm", other, user="alice")

        def finished():
            out = lab.exec("hub", "condor_history", done, "-af", "JobStatus", "ExitCode", check=False).stdout
            return out.split() == ["4", "0"] and out
        wait_for(finished, 120, f"alice's ordinary job {done} to complete", interval=1)
        cluster = done.split(".")[0]
        assert lab.exec("hub", "cat", f"ordinary-{cluster}.out", user="alice").stdout == "ordinary\n"
    finally:
        lab.exec("hub", "condor_rm", other, user="alice", check=False)


# -- the run time's backstop ------------------------------------------------------

def _hub_answers(hub):
    try:
        return hub.request("GET", "/hub/api/")[0] == 200
    except OSError:
        return False


@pytest.mark.disruptive(14)
def test_marked_job_past_its_run_time_is_held_by_the_schedd(lab, hub):
    """With the hub down and a job with no hold policy of its own, the schedd
    holds a marked job past its run time, with the hub's subcode for it."""
    kinit(lab, "bob")
    lab.exec("hub", "systemctl", "stop", "jupyterhub")
    job = None
    try:
        job = lab.submit("bob", marked(**{"+UnchainedRuntime": 1}))
        assert raw(lab, job, "PeriodicHold") == ["undefined"]
        wait_for(lambda: lab.job_attr(job, "JobStatus") == "5", 200, f"job {job} to be held", interval=2)
        started, held = (int(t) for t in raw(lab, job, "JobCurrentStartDate", "EnteredCurrentStatus"))
        # Held past its run time and the grace the hub and the job's own policy have.
        assert held - started >= 1 + 120, (started, held)
        assert lab.job_attr(job, "HoldReasonSubCode") == RUNTIME_HOLD_SUBCODE
        assert "The notebook server's run time has passed" in lab.job_attr(job, "HoldReason")
    finally:
        if job:
            lab.exec("hub", "condor_rm", job, user="bob", check=False)
        lab.exec("hub", "systemctl", "start", "jupyterhub")
        wait_for(lambda: _hub_answers(hub), 60, "the hub to answer")
