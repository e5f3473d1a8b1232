"""What the spawner measures, for the site's Prometheus.

The metrics live in prometheus_client's default registry, which JupyterHub's
own /hub/metrics serves (to a token with the scope read:metrics), so one
scrape has JupyterHub's and ours. Names begin with `unchained_`.
"""

import time

from prometheus_client import Counter, Gauge, Histogram

# A spawn's phases, in order (SpawnTimer), then its whole.
SPAWN_PHASES = ("submit", "queue", "job_start", "connect", "ready")

SPAWN_PHASE_SECONDS = Histogram(
    "unchained_spawn_phase_seconds",
    "Seconds each phase of a spawn took, observed when it succeeded: submit (files, token, condor_submit), "
    "queue (until HTCondor ran the job), job_start (until the job's launcher had the hub's settings and started the "
    "server), connect (until the server listened at the tunnel's end), ready (until it answered HTTP), "
    "and total",
    ["phase"],
    buckets=(0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600, 1800),
)
TUNNEL_RECONNECTS = Counter(
    "unchained_tunnel_reconnects_total",
    "Tunnels to running servers re-established (outcome=reconnected), or given up for a worker "
    "taken for lost (outcome=lost)",
    ["outcome"],
)
SCHEDD_QUERY_SECONDS = Histogram(
    "unchained_schedd_query_seconds",
    "Seconds of the hub's one query of its schedd for all its jobs",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30),
)
SCHEDD_QUERY_FAILURES = Counter(
    "unchained_schedd_query_failures_total",
    "Queries of the schedd that failed (the hub kept the last known job status)",
)
RUNNING_SERVERS = Gauge(
    "unchained_running_servers",
    "This hub's notebook jobs running, by execute host",
    ["execute_host"],
)


class SpawnTimer:
    """A spawn's phases as it passes from one to the next, observed together
    once it succeeds (so that the phases of the histogram add up to its total)."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._started = self._last = clock()
        self._phases = []

    def phase_done(self, phase, at=None):
        """`phase` ended now, or at `at` (a time of the same clock)."""
        assert phase in SPAWN_PHASES, phase
        end = self._clock() if at is None else at
        self._phases.append((phase, max(0.0, end - self._last)))
        self._last = max(self._last, end)

    def done(self):
        for phase, seconds in self._phases:
            SPAWN_PHASE_SECONDS.labels(phase).observe(seconds)
        SPAWN_PHASE_SECONDS.labels("total").observe(self._clock() - self._started)


def count_running(jobs):
    """Set RUNNING_SERVERS from the poller's job ads ({cluster: ad})."""
    hosts = {}
    for ad in jobs.values():
        if ad.get("JobStatus") == 2 and ad.get("RemoteHost"):
            host = str(ad["RemoteHost"]).rpartition("@")[2]
            hosts[host] = hosts.get(host, 0) + 1
    RUNNING_SERVERS.clear()
    for host, count in hosts.items():
        RUNNING_SERVERS.labels(host).set(count)
