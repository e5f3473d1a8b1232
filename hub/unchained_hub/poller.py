"""One schedd query for every server of this hub.

A single `JobPoller` per hub process asks the schedd for all of this hub's
jobs (those with `UnchainedHub == HUB_ID`) once per interval, with jitter,
and every spawner reads its job's status from that answer. While some
spawner is waiting for a change (a job to start, to stop) the poller asks
every `fast_interval` instead; the rest of the time every `interval`.

A failed query changes nothing: the last known status stands, and no server
is declared gone because the schedd was briefly unreachable.

The poller also takes jobs out of the queue (`retire`), step by step as its
answers show them (`jobstate.retire_step`), so that no stop path loses a
job's files: those of stopped servers, and those no server owns (orphans,
left by a spawn the hub did not live to finish).
"""

import asyncio
import contextlib
import random
import time

from . import condor, jobstate, metrics

# Seconds before a step of retiring a job that failed, or did not take
# effect, is tried again.
RETRY_AFTER = 30.0


class JobPoller:
    _instances = {}

    @classmethod
    def for_hub(cls, hub_id, **settings):
        """The one poller of this hub process (settings of the first caller)."""
        if hub_id not in cls._instances:
            cls._instances[hub_id] = cls(hub_id, **settings)
        return cls._instances[hub_id]

    def __init__(self, hub_id, *, log, interval=30.0, fast_interval=0.5, jitter=0.1,
                 bin_dir="/usr/bin", runner=condor.run, orphan_grace=120.0, user_condor=None,
                 force_remove_after=15.0, stuck_after=600.0, retire_interval=2.0, lost_after=60.0):
        self.hub_id = hub_id
        self.log = log
        self.interval = interval
        self.fast_interval = fast_interval
        self.jitter = jitter
        self.bin_dir = bin_dir
        self.runner = runner
        self.orphan_grace = orphan_grace
        self.user_condor = user_condor  # owner -> condor.UserCondor, to retire jobs
        self.force_remove_after = force_remove_after
        self.stuck_after = stuck_after
        self.lost_after = lost_after
        self.retire_interval = retire_interval
        self.jobs = {}            # cluster -> ad, from the last successful query
        self.queries = 0          # queries started
        self.answered_serial = 0  # number of the query that produced self.jobs
        self._claimed = set()     # clusters some spawner owns
        self._first_seen = {}     # unclaimed cluster -> monotonic time first seen
        self._retiring = {}       # cluster -> (jobstate.Retirement, future set once it is gone)
        self._lost_workers = {}   # host -> (epoch when taken for lost, monotonic time to forget it)
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

    def retire(self, cluster, owner, *, grace=0.0, lost=False):
        """Take the job out of the queue without losing its files (see
        `jobstate.retire_step`); a future that is done once it has left."""
        if cluster in self._retiring:
            retirement, gone = self._retiring[cluster]
            retirement.lost = retirement.lost or lost
            return gone
        self._claimed.discard(cluster)
        gone = asyncio.get_running_loop().create_future()
        self._retiring[cluster] = (jobstate.Retirement(owner, since=time.monotonic(), grace=grace, lost=lost), gone)
        self._ensure_running()
        self._wake.set()
        return gone

    async def wait_retired(self, gone, timeout):
        """Wait (polling fast) until a retired job has left the queue; whether it has."""
        deadline = time.monotonic() + timeout
        while not gone.done() and time.monotonic() < deadline:
            await self.next_update(timeout=min(5.0, max(0.0, deadline - time.monotonic())))
        return gone.done()

    def worker_lost(self, host, seconds):
        """Remember for `seconds` that `host` was taken for lost (see `lost_workers`)."""
        self._lost_workers[host] = (time.time(), time.monotonic() + seconds)

    def lost_workers(self):
        """{host: when it was taken for lost (epoch)}, for the workers lost a short while ago:
        new jobs keep off them until the collector hears from them again."""
        now = time.monotonic()
        self._lost_workers = {host: v for host, v in self._lost_workers.items() if v[1] > now}
        return {host: since for host, (since, _) in self._lost_workers.items()}

    def status(self, cluster):
        """The job's last known ad, or None if the last query did not list it."""
        return self.jobs.get(cluster)

    async def why_idle(self, cluster):
        """HTCondor's explanation for an idle job (see `condor.why_idle`)."""
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
            if self._retiring:
                delay = min(delay, self.retire_interval)
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
        started = time.monotonic()
        try:
            jobs = await condor.query_jobs(self.hub_id, bin_dir=self.bin_dir, runner=self.runner)
        except (condor.CondorError, ValueError, OSError) as e:
            metrics.SCHEDD_QUERY_FAILURES.inc()
            self.log.warning("schedd query failed, keeping the last known job status: %s", e)
            return
        finally:
            metrics.SCHEDD_QUERY_SECONDS.observe(time.monotonic() - started)
        self.jobs = jobs
        metrics.count_running(jobs)
        self.answered_serial = serial
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        await self._retire_jobs()
        self._reap_orphans()

    async def _retire_jobs(self):
        now = time.monotonic()
        for cluster, (r, gone) in list(self._retiring.items()):
            ad = self.jobs.get(cluster)
            if ad is not None and ad.get("JobStatus") == jobstate.REMOVED and r.removed_at is None:
                r.removed_at = now
            if ad is not None and jobstate.disconnected_for(ad) > self.lost_after:
                r.lost = True  # HTCondor itself has lost the worker: nothing of the job can come back
            step = jobstate.retire_step(ad, r, now, force_after=self.force_remove_after,
                                        stuck_after=self.stuck_after, retry_after=RETRY_AFTER)
            if step == jobstate.DONE:
                del self._retiring[cluster]
                gone.set_result(True)
                continue
            if step == jobstate.WAIT or self.user_condor is None or now < r.retry_at:
                continue
            self.log.info("job %s of %s: %s", cluster, r.owner, step)
            try:
                user = self.user_condor(r.owner)
                if step == jobstate.HOLD:
                    await user.hold(cluster)
                    r.held_at = now
                elif step == jobstate.REMOVE:
                    await user.remove(cluster)
                    r.removed_at = now
                else:
                    await user.remove(cluster, force=True)
            except (condor.CondorError, OSError) as e:
                self.log.error("could not %s job %s of %s (trying again in %d s): %s",
                               step, cluster, r.owner, RETRY_AFTER, e)
                r.retry_at = now + RETRY_AFTER

    def _reap_orphans(self):
        """Retire this hub's jobs that no spawner has claimed for a while:
        left by a spawn the hub did not live to finish."""
        now = time.monotonic()
        for cluster in list(self._first_seen):
            if cluster not in self.jobs or cluster in self._claimed:
                del self._first_seen[cluster]
        for cluster, ad in self.jobs.items():
            if cluster in self._claimed or cluster in self._retiring:
                continue
            first = self._first_seen.setdefault(cluster, now)
            if now - max(first, self._started) < self.orphan_grace or self.user_condor is None:
                continue
            self.log.warning("job %s of %s belongs to no server of this hub; stopping it", cluster, ad.get("Owner"))
            self.retire(cluster, ad.get("Owner", ""))
            self._first_seen.pop(cluster, None)
