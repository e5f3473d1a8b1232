"""The spawner's metrics: what each phase and count records."""

from prometheus_client import REGISTRY
from unchained_hub import metrics


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_each_phase_is_the_time_since_the_one_before_and_total_the_whole_once_the_spawn_succeeds():
    now = [100.0]
    timer = metrics.SpawnTimer(clock=lambda: now[0])
    before = {p: sample("unchained_spawn_phase_seconds_sum", phase=p) for p in (*metrics.SPAWN_PHASES, "total")}
    now[0] = 101.5
    timer.phase_done("submit")
    now[0] = 110.0
    timer.phase_done("queue", at=104.0)  # the job ran at 104; the hub noticed later
    timer.phase_done("job_start", at=106.5)
    timer.phase_done("connect")
    now[0] = 110.25
    timer.phase_done("ready")
    assert sample("unchained_spawn_phase_seconds_sum", phase="submit") == before["submit"]  # not before done()
    timer.done()
    took = {p: sample("unchained_spawn_phase_seconds_sum", phase=p) - before[p] for p in before}
    assert took == {"submit": 1.5, "queue": 2.5, "job_start": 2.5, "connect": 3.5, "ready": 0.25, "total": 10.25}
    assert sample("unchained_spawn_phase_seconds_bucket", phase="total", le="15.0") >= 1


def test_running_servers_are_counted_by_execute_host_and_hosts_that_left_drop_out():
    metrics.count_running({1: {"JobStatus": 2, "RemoteHost": "slot1_1@ex1.lab.test"},
                           2: {"JobStatus": 2, "RemoteHost": "slot1_2@ex1.lab.test"},
                           3: {"JobStatus": 2, "RemoteHost": "slot1_1@ex2.lab.test"},
                           4: {"JobStatus": 1}, 5: {"JobStatus": 5, "RemoteHost": "slot1_3@ex2.lab.test"}})
    assert sample("unchained_running_servers", execute_host="ex1.lab.test") == 2
    assert sample("unchained_running_servers", execute_host="ex2.lab.test") == 1
    metrics.count_running({3: {"JobStatus": 2, "RemoteHost": "slot1_1@ex2.lab.test"}})
    assert REGISTRY.get_sample_value("unchained_running_servers", {"execute_host": "ex1.lab.test"}) is None
