"""Transcript tests: the exact commands sent to HTCondor, and how answers are read."""

import asyncio
import json

import pytest
from unchained_hub import condor
from unchained_hub.condor import Result, UserCondor


class Transcript:
    """Records each command and answers from a list of canned results."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    async def __call__(self, argv, stdin=None, timeout=60, limit=None):
        self.calls.append((argv, stdin))
        return self.answers.pop(0)


def run(coro):
    return asyncio.run(coro)


SUDO = ["/usr/bin/sudo", "-n", "-H", "-u", "alice", "--"]


def test_submit_as_the_user_from_stdin():
    t = Transcript(Result(0, "17.0 - 17.0\n", ""))
    cluster = run(UserCondor("alice", runner=t).submit("executable = /bin/true\nqueue\n"))
    assert cluster == 17
    assert t.calls == [(SUDO + ["/usr/bin/condor_submit", "-terse"], "executable = /bin/true\nqueue\n")]


def test_submit_failure_says_why():
    t = Transcript(Result(1, "", "ERROR: Invalid log file: x\nSubmitting job(s)\nERROR: failed to submit\n"))
    with pytest.raises(condor.CondorError, match="condor_submit as alice failed: ERROR: failed to submit"):
        run(UserCondor("alice", runner=t).submit("queue\n"))


def test_submit_without_a_kerberos_ticket_says_log_in_again():
    # condor_submit's words (HTCondor 23.9) when the schedd takes only Kerberos.
    t = Transcript(Result(1, "", "ERROR: Failed to connect to local queue manager\n"
                                 "AUTHENTICATE:1003:Failed to authenticate with any method\n"
                                 "AUTHENTICATE:1004:Failed to authenticate using KERBEROS\n"))
    with pytest.raises(condor.TicketError, match="condor_submit for alice: the Kerberos ticket from your login "
                                                  "is missing or has expired. Log out of the hub and log in again"):
        run(UserCondor("alice", runner=t).submit("queue\n"))


def test_remove_tolerates_gone_job():
    t = Transcript(Result(1, "", "Couldn't find/remove all jobs in cluster 5\n"))
    run(UserCondor("alice", runner=t).remove(5))
    assert t.calls[0][0] == SUDO + ["/usr/bin/condor_rm", "5"]


def test_prepare_and_token():
    t = Transcript(Result(0, "", ""), Result(0, "", ""))
    c = UserCondor("alice", runner=t)
    run(c.prepare("/home/alice/jupyter"))
    run(c.fetch_token())
    assert t.calls[0][0] == SUDO + ["/usr/bin/mkdir", "-p", "-m", "0700", "--", "/home/alice/jupyter"]
    assert t.calls[1][0] == SUDO + ["/usr/bin/condor_token_fetch", "-token", "unchained-hub"]


def test_stop_through_a_session_of_its_own():
    t = Transcript(Result(0, "", ""))
    run(UserCondor("alice", runner=t).ssh_to_job(9, "/opt/env/bin/unchained-singleuser", "stop"))
    assert t.calls[0] == (SUDO + ["/usr/bin/condor_ssh_to_job", "9.0", "/opt/env/bin/unchained-singleuser", "stop"],
                          None)


def test_tunnel_argv_quotes_words_with_spaces_for_condor_ssh_to_job():
    c = UserCondor("alice")
    argv = c.tunnel_argv(9, ["ssh", "-oProxyCommand=/opt/hub/bin/python3 -m unchained_hub.fdpass %x", "-L", "a:b"],
                         "/opt/env/bin/unchained-singleuser")
    assert argv == SUDO + ["/usr/bin/condor_ssh_to_job", "-ssh",
                           "ssh '-oProxyCommand=/opt/hub/bin/python3 -m unchained_hub.fdpass %x' -L a:b", "9.0",
                           "/opt/env/bin/unchained-singleuser", "attach"]
    with pytest.raises(ValueError):
        c.tunnel_argv(9, ["ssh"], "/opt/env/bin/unchained singleuser")


@pytest.mark.parametrize("name", ["root; rm", "Alice", "-u", "a b", "", "x" * 40])
def test_user_names_checked(name):
    with pytest.raises(condor.CondorError, match="not a valid system user name"):
        UserCondor(name)


def test_one_query_for_the_whole_hub():
    ads = [{"ClusterId": 3, "JobStatus": 2, "Owner": "alice"}, {"ClusterId": 4, "JobStatus": 1, "Owner": "bob"}]
    t = Transcript(Result(0, json.dumps(ads), ""))
    jobs = run(condor.query_jobs("hub.lab.test", runner=t))
    assert set(jobs) == {3, 4}
    argv = t.calls[0][0]
    assert argv[:4] == ["/usr/bin/condor_q", "-all", "-constraint", 'UnchainedHub == "hub.lab.test"']
    assert argv[-1] == "-json"


def test_empty_queue_and_failed_query():
    assert run(condor.query_jobs("h", runner=Transcript(Result(0, "", "")))) == {}
    with pytest.raises(condor.CondorError, match="condor_q failed"):
        run(condor.query_jobs("h", runner=Transcript(Result(1, "", "Failed to connect to schedd\n"))))


ANALYSIS = """
The Requirements expression for job 4.000 reduces to these conditions:

         Slots
Step    Matched  Condition
-----  --------  ---------
[0]           3  TARGET.Arch == "X86_64"
[5]           0  TARGET.Memory >= RequestMemory

004.000:  Run analysis summary ignoring user priority.  Of 2 machines,
      0 are able to run your job
"""


def test_why_idle_names_the_unmet_condition():
    why = run(condor.why_idle(4, runner=Transcript(Result(0, ANALYSIS, ""))))
    assert why == ("TARGET.Memory >= RequestMemory", "[5]           0  TARGET.Memory >= RequestMemory")


def test_why_idle_when_every_condition_is_met_somewhere():
    analysis = ANALYSIS.replace("[5]           0", "[5]           2")
    why = run(condor.why_idle(4, runner=Transcript(Result(0, analysis, ""))))
    assert why == ("", "0 are able to run your job")
    assert run(condor.why_idle(4, runner=Transcript(Result(1, "", "no such job")))) is None


@pytest.fixture
def fresh_slots(monkeypatch):
    # The hub has one event loop; each test here has its own.
    monkeypatch.setattr(condor, "_schedd_commands", asyncio.Semaphore(condor.SCHEDD_COMMANDS_AT_ONCE))


def test_users_commands_reach_the_schedd_a_few_at_a_time(fresh_slots):
    active, most, programs = 0, 0, []

    async def slow(argv, stdin=None, timeout=60):
        nonlocal active, most
        programs.append(argv[6])
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.01)
        active -= 1
        return Result(0, "", "")

    async def many():
        users = [UserCondor(f"user{i}", runner=slow) for i in range(40)]
        await asyncio.gather(*(u.ssh_to_job(7, "x", "receive") for u in users))
        return most

    assert run(many()) == condor.SCHEDD_COMMANDS_AT_ONCE
    assert len(programs) == 40


def test_directories_are_made_without_waiting_for_the_schedd(fresh_slots):
    async def blocked():
        async with condor.schedd_command_slot():
            # All slots taken would not hold up mkdir, which does not reach the schedd.
            for _ in range(condor.SCHEDD_COMMANDS_AT_ONCE - 1):
                await condor.schedd_command_slot().acquire()
            try:
                t = Transcript(Result(0, "", ""))
                await asyncio.wait_for(UserCondor("alice", runner=t).prepare("/home/alice/jupyter"), 1)
                return t.calls[0][0][6]
            finally:
                for _ in range(condor.SCHEDD_COMMANDS_AT_ONCE - 1):
                    condor.schedd_command_slot().release()

    assert run(blocked()) == "/usr/bin/mkdir"
