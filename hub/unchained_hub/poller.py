"""One schedd query for every server of this hub.

A single `JobPoller` per hub process asks the schedd for all of this hub's
jobs (those with `UnchainedHub == HUB_ID`) once per interval, with jitter,
and every spawner reads its job's status from that answer. While some
spawner is waiting for a change (a job to start, to stop) the poller asks
every `fast_interval` instead; the rest of the time every `interval`.

A failed query changes nothing: the last known status stands, and no server
is declared gone because the schedd was briefly unreachable.
"""

import asyncio
import contextlib
import random
import time

from . import condor


class JobPoller:
    _instances = {}

    @classmethod
    def for_hub(cls, hub_id, **settings):
        """The one poller of this hub process (settings of the first caller)."""
        if hub_id not in cls._instances:
            cls._instances[hub_id] = cls(hub_id, **settings)
        return cls._instances[hub_id]

    def __init__(self, hub_id, *, log, interval=30.0, fast_interval=0.5, jitter=0.1,
                 bin_dir="/usr/bin", runner=condor.run, orphan_grace=120.0, remove_orphan=None):
        self.hub_id = hub_id
        self.log = log
        self.interval = interval
        self.fast_interval = fast_interval
        self.jitter = jitter
        self.bin_dir = bin_dir
        self.runner = runner
        self.orphan_grace = orphan_grace
        self.remove_orphan = remove_orphan
        self.jobs = {}            # cluster -> ad, from the last successful query
        self.queries = 0          # queries started
        self.answered_serial = 0  # number of the query that produced self.jobs
        self._claimed = set()     # clusters some spawner owns
        self._first_seen = {}     # unclaimed cluster -> monotonic time first seen
        self._eager = 0
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._task = None
        self._started = time.monotonic()
        self._own_token = False

    # -- what spawners call ------------------------------------------------

    def start(self):
        """Start polling, if there is an event loop to poll in (there is
        whenever JupyterHub makes a spawner)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._ensure_running()

    def claim(self, cluster):
        self._claimed.add(cluster)
        self._ensure_running()

    def release(self, cluster):
        self._claimed.discard(cluster)

    def status(self, cluster):
        """The job's last known ad, or None if the last query did not list it."""
        return self.jobs.get(cluster)

    async def why_idle(self, cluster):
        """HTCondor's explanation for an idle job ('' if it has none)."""
        if not self._own_token:
            try:
                await condor.fetch_own_token(bin_dir=self.bin_dir, runner=self.runner)
                self._own_token = True
            except condor.CondorError as e:
                self.log.warning("%s; idle jobs will not be explained", e)
        return await condor.why_idle(cluster, bin_dir=self.bin_dir, runner=self.runner)

    def has_answered(self):
        return self.answered_serial > 0

    async def next_update(self, timeout=None):
        """Wait for the next query's answer, polling fast until it arrives."""
        self._ensure_running()
        self._eager += 1
        self._wake.set()
        try:
            event = self._changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            self._eager -= 1

    # -- the loop ----------------------------------------------------------

    def _ensure_running(self):
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._loop())

    async def _loop(self):
        while True:
            await self._query()
            delay = self.fast_interval if self._eager else self.interval
            delay *= 1 + random.uniform(-self.jitter, self.jitter)
            self._wake.clear()
            if not self._eager:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            else:
                await asyncio.sleep(delay)

    async def _query(self):
        self.queries += 1
        serial = self.queries
        try:
            jobs = await condor.query_jobs(self.hub_id, bin_dir=self.bin_dir, runner=self.runner)
        except (condor.CondorError, ValueError, OSError) as e:
            self.log.warning("schedd query failed, keeping the last known job status: %s", e)
            return
        self.jobs = jobs
        self.answered_serial = serial
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        await self._reap_orphans()

    async def _reap_orphans(self):
        """Remove this hub's jobs that no spawner has claimed for a while:
        left by a spawn the hub did not live to finish."""
        now = time.monotonic()
        for cluster in list(self._first_seen):
            if cluster not in self.jobs or cluster in self._claimed:
                del self._first_seen[cluster]
        for cluster, ad in self.jobs.items():
            if cluster in self._claimed:
                continue
            first = self._first_seen.setdefault(cluster, now)
            if now - max(first, self._started) < self.orphan_grace or self.remove_orphan is None:
                continue
            self.log.warning("job %s of %s belongs to no server of this hub; removing it",
                             cluster, ad.get("Owner"))
            try:
                await self.remove_orphan(ad.get("Owner", ""), cluster)
            except (condor.CondorError, OSError) as e:
                self.log.error("could not remove orphaned job %s: %s", cluster, e)
            self._first_seen.pop(cluster, None)
