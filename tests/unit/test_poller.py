"""The shared poller: one query for all servers, fast only while someone waits."""

import asyncio
import json
import logging
import time

import pytest
from prometheus_client import REGISTRY
from unchained_hub import condor
from unchained_hub import poller as poller_module
from unchained_hub.condor import Result
from unchained_hub.poller import JobPoller

log = logging.getLogger("test")


class Schedd:
    """Answers condor_q like a schedd holding `jobs`; counts the queries."""

    def __init__(self):
        self.jobs = {}
        self.queries = 0
        self.fail = False

    async def __call__(self, argv, stdin=None, timeout=60, limit=None):
        assert argv[0].endswith("condor_q")
        self.queries += 1
        if self.fail:
            return Result(1, "", "Failed to fetch ads from schedd\n")
        return Result(0, json.dumps(list(self.jobs.values())), "")


def test_many_servers_one_query_per_interval():
    async def scenario():
        schedd = Schedd()
        for c in range(1, 6):
            schedd.jobs[c] = {"ClusterId": c, "JobStatus": 2, "Owner": "alice"}
        poller = JobPoller("hub", log=log, interval=0.2, fast_interval=0.01, jitter=0, runner=schedd)
        for c in range(1, 6):
            poller.claim(c)
        await asyncio.sleep(1.05)
        assert all(poller.status(c)["JobStatus"] == 2 for c in range(1, 6))
        return schedd.queries
    queries = asyncio.run(scenario())
    # One per 0.2 s for five servers, not five per 0.2 s.
    assert 5 <= queries <= 7


def test_waiting_spawner_gets_fast_answers():
    async def scenario():
        schedd = Schedd()
        poller = JobPoller("hub", log=log, interval=60, fast_interval=0.01, jitter=0, runner=schedd)
        poller.claim(1)
        await asyncio.sleep(0.05)
        schedd.jobs[1] = {"ClusterId": 1, "JobStatus": 2}
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await poller.next_update(timeout=5)
        return loop.time() - t0, poller.status(1)
    elapsed, ad = asyncio.run(scenario())
    assert elapsed < 1 and ad["JobStatus"] == 2


def test_failed_query_keeps_last_known_status():
    async def scenario():
        schedd = Schedd()
        schedd.jobs[1] = {"ClusterId": 1, "JobStatus": 2}
        poller = JobPoller("hub", log=log, interval=60, fast_interval=0.01, jitter=0, runner=schedd)
        poller.claim(1)
        await poller.next_update(timeout=5)
        schedd.fail = True
        schedd.jobs.clear()
        await asyncio.sleep(0.1)
        await poller.next_update(timeout=0.2)
        return poller.status(1)
    failures = REGISTRY.get_sample_value("unchained_schedd_query_failures_total") or 0
    assert asyncio.run(scenario())["JobStatus"] == 2
    assert REGISTRY.get_sample_value("unchained_schedd_query_failures_total") > failures


class FakeCondor:
    """A user's HTCondor commands acting on the Schedd double, as HTCondor would:
    hold leaves the job held (its files copied back), rm of a job with a
    shadow leaves it removed (X) until the shadow ends, -forcex takes it out."""

    def __init__(self, schedd, calls, shadow_ends=True, fail=0):
        self.schedd, self.calls, self.shadow_ends, self.fail = schedd, calls, shadow_ends, fail

    def __call__(self, owner):
        self.owner = owner
        return self

    def _record(self, what, cluster):
        self.calls.append((what, self.owner, cluster))
        if self.fail:
            self.fail -= 1
            raise condor.CondorError(f"condor_{what} as {self.owner} failed: Failed to connect to schedd")

    async def hold(self, cluster):
        self._record("hold", cluster)
        self.schedd.jobs[cluster].update(JobStatus=5, RemoteHost=None)

    async def remove(self, cluster, force=False):
        self._record("rm -forcex" if force else "rm", cluster)
        job = self.schedd.jobs[cluster]
        if force or not job.get("RemoteHost") or self.shadow_ends:
            del self.schedd.jobs[cluster]
        else:
            job["JobStatus"] = 3


def running(cluster, owner="alice"):
    return {"ClusterId": cluster, "JobStatus": 2, "Owner": owner, "RemoteHost": "slot1@ex1"}


def test_orphans_are_stopped_gracefully_after_grace_claimed_jobs_kept():
    calls = []

    async def scenario():
        schedd = Schedd()
        schedd.jobs[1] = running(1)
        schedd.jobs[2] = running(2, owner="bob")
        poller = JobPoller("hub", log=log, interval=0.05, fast_interval=0.01, jitter=0, runner=schedd,
                           orphan_grace=0.3, user_condor=FakeCondor(schedd, calls), retire_interval=0.05)
        poller.claim(1)
        await asyncio.sleep(0.15)
        assert calls == []
        await asyncio.sleep(0.6)
        return schedd.jobs
    left = asyncio.run(scenario())
    # Held first (its files come back), removed once its shadow is gone.
    assert calls == [("hold", "bob", 2), ("rm", "bob", 2)]
    assert list(left) == [1]


def test_a_stopped_server_gets_its_grace_then_is_held_and_removed():
    calls = []

    async def scenario():
        schedd = Schedd()
        schedd.jobs[1] = running(1)
        poller = JobPoller("hub", log=log, interval=60, fast_interval=0.01, jitter=0, runner=schedd,
                           user_condor=FakeCondor(schedd, calls), retire_interval=0.01)
        poller.claim(1)
        await poller.next_update(timeout=1)
        gone = poller.retire(1, "alice", grace=0.3)
        assert not await poller.wait_retired(gone, 0.2)
        assert calls == []
        return await poller.wait_retired(gone, 2)
    assert asyncio.run(scenario())
    assert calls == [("hold", "alice", 1), ("rm", "alice", 1)]


def test_a_failed_step_is_tried_again_later(monkeypatch):
    monkeypatch.setattr(poller_module, "RETRY_AFTER", 0.2)
    calls = []

    async def scenario():
        schedd = Schedd()
        schedd.jobs[1] = {**running(1), "JobStatus": 1, "RemoteHost": None}
        poller = JobPoller("hub", log=log, interval=60, fast_interval=0.01, jitter=0, runner=schedd,
                           user_condor=FakeCondor(schedd, calls, fail=1), retire_interval=0.01)
        await poller.next_update(timeout=1)
        gone = poller.retire(1, "alice")
        assert not await poller.wait_retired(gone, 0.15)
        return await poller.wait_retired(gone, 1)
    assert asyncio.run(scenario())
    assert calls == [("rm", "alice", 1), ("rm", "alice", 1)]


def test_a_lost_worker_is_remembered_for_a_while():
    poller = JobPoller("hub", log=log, runner=Schedd())
    before = time.time()
    poller.worker_lost("ex1.lab.test", 0.2)
    poller.worker_lost("ex2.lab.test", 60)
    lost = poller.lost_workers()
    assert sorted(lost) == ["ex1.lab.test", "ex2.lab.test"] and before <= lost["ex1.lab.test"] <= time.time()
    time.sleep(0.25)
    assert list(poller.lost_workers()) == ["ex2.lab.test"]


@pytest.mark.parametrize("disconnected, lost", [
    (None, True),   # the hub took its worker for lost (tunnel gone)
    (120, False),   # HTCondor lost touch with it 120 s ago (JobDisconnectedDate)
])
def test_a_job_on_a_lost_worker_is_removed_then_forced_out_without_waiting_to_hold(disconnected, lost):
    calls = []

    async def scenario():
        schedd = Schedd()
        schedd.jobs[1] = running(1)
        if disconnected:
            schedd.jobs[1]["JobDisconnectedDate"] = int(time.time()) - disconnected
        poller = JobPoller("hub", log=log, interval=60, fast_interval=0.01, jitter=0, runner=schedd,
                           user_condor=FakeCondor(schedd, calls, shadow_ends=False), retire_interval=0.01,
                           force_remove_after=0.1, lost_after=60)
        await poller.next_update(timeout=1)
        return await poller.wait_retired(poller.retire(1, "alice", lost=lost), 2)
    assert asyncio.run(scenario())
    assert calls == [("rm", "alice", 1), ("rm -forcex", "alice", 1)]
