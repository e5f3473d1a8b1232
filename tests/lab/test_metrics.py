"""Metrics: the hub's /hub/metrics, JupyterHub's and the spawner's (unchained_*),
read by a token whose role has read:metrics only, scraped over HTTPS by the
site's Prometheus (Debian's, on mon: role monitoring)."""

import json

from hubclient import SMALL, job_of, spawn
from labtest import wait_for

PROMQL = """
import json, sys, urllib.parse, urllib.request
url = "http://localhost:9090/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[1]})
print(json.dumps(json.load(urllib.request.urlopen(url, timeout=10))["data"]["result"]))
"""


def prometheus(lab, query):
    """The result vector of a PromQL query, asked of mon's Prometheus."""
    return json.loads(lab.exec("mon", "python3", "-c", PROMQL, query).stdout)


def value(lab, query):
    result = prometheus(lab, query)
    return float(result[0]["value"][1]) if result else 0.0


def test_the_scrape_token_reads_metrics_and_nothing_else(lab, hub):
    token = lab.exec("mon", "cat", "/etc/prometheus/hub.token").stdout.strip()
    status, body = hub.request("GET", "/hub/metrics", token=token)
    assert status == 200 and "jupyterhub_" in body and "unchained_schedd_query_seconds" in body, body[:500]
    assert hub.request("GET", "/hub/api/users", token=token)[0] == 403
    assert hub.request("POST", "/hub/api/users/alice/server", token=token)[0] == 403
    assert hub.request("GET", "/hub/metrics", token="not-a-token")[0] == 403


def test_prometheus_scrapes_the_hub_over_https_and_sees_a_spawn(lab, hub, servers):
    wait_for(lambda: value(lab, 'up{job="jupyterhub"}') == 1, 60, "Prometheus to scrape the hub")
    target = prometheus(lab, 'up{job="jupyterhub"}')[0]["metric"]
    assert target["instance"] == "hub.lab.test:8000", target
    total = 'sum(unchained_spawn_phase_seconds_count{phase="total"})'
    before = value(lab, total)
    spawn(hub, servers, "alice", "metrics", SMALL)
    cluster = job_of(hub, "alice", "metrics")["cluster"]
    wait_for(lambda: value(lab, total) > before, 60, "the spawn in Prometheus")
    phases = {r["metric"]["phase"]: float(r["value"][1])
              for r in prometheus(lab, "unchained_spawn_phase_seconds_sum")}
    assert set(phases) == {"submit", "queue", "job_start", "connect", "ready", "total"}, phases
    # The phases add up to the whole (each summed over every spawn since the hub started).
    assert abs(sum(v for p, v in phases.items() if p != "total") - phases["total"]) < 0.5, phases
    host = lab.exec("hub", "condor_q", str(cluster), "-af", "RemoteHost").stdout.strip().rpartition("@")[2]
    wait_for(lambda: value(lab, f'unchained_running_servers{{execute_host="{host}"}}') >= 1, 30,
             f"a running server on {host} in Prometheus")
    median = value(lab, 'histogram_quantile(0.5, sum by (le) (unchained_spawn_phase_seconds_bucket{phase="total"}))')
    print(f"\nPrometheus: {value(lab, total):.0f} spawns, median POST->ready {median:.1f} s; "
          f"phase sums {json.dumps({p: round(v, 1) for p, v in phases.items()})}")
