"""The shared poller: one query for all servers, fast only while someone waits."""

import asyncio
import json
import logging

from unchained_hub.condor import Result
from unchained_hub.poller import JobPoller

log = logging.getLogger("test")


class Schedd:
    """Answers condor_q like a schedd holding `jobs`; counts the queries."""

    def __init__(self):
        self.jobs = {}
        self.queries = 0
        self.fail = False

    async def __call__(self, argv, stdin=None, timeout=60):
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
    assert asyncio.run(scenario())["JobStatus"] == 2


def test_orphans_removed_after_grace_claimed_jobs_kept():
    removed = []

    async def remove(owner, cluster):
        removed.append((owner, cluster))

    async def scenario():
        schedd = Schedd()
        schedd.jobs[1] = {"ClusterId": 1, "JobStatus": 2, "Owner": "alice"}
        schedd.jobs[2] = {"ClusterId": 2, "JobStatus": 1, "Owner": "bob"}
        poller = JobPoller("hub", log=log, interval=0.05, fast_interval=0.01, jitter=0, runner=schedd,
                           orphan_grace=0.3, remove_orphan=remove)
        poller.claim(1)
        await asyncio.sleep(0.15)
        assert removed == []
        await asyncio.sleep(0.4)
    asyncio.run(scenario())
    assert removed == [("bob", 2)]
