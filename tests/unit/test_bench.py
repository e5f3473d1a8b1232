"""The benchmark's pure parts (tests/bench): who goes first, statistics,
targets, the table and the README's copy of it, SchedLog counting, spawn
phases, the hubs' memory, the baseline hub's configuration, the light server,
the firewall rule, and the plot. No lab needed."""

import json
import os
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "bench"))
sys.path.insert(0, str(TESTS / "lab"))
import benchlib  # noqa: E402
import firewall  # noqa: E402
import table  # noqa: E402

REPO = TESTS.parent

# -- who goes first -------------------------------------------------------------

def test_turns_alternate_with_n():
    assert benchlib.turns(("ours", "baseline"), 4) == ("ours", "baseline")
    assert benchlib.turns(("ours", "baseline"), 7) == ("baseline", "ours")
    assert benchlib.turns((None,), 1) == (None,)  # the baseline's one environment


@pytest.mark.parametrize("seed", [0, 1, 416])
def test_every_measure_alternates_who_goes_first_and_the_seed_says_how(seed):
    steps = benchlib.schedule(seed, 3, "P1, P1b 5, P2", ["P1b 20", "P3/P5", "P4"])
    assert [s["what"] for s in steps] == ["round 1 (P1, P1b 5, P2)", "round 2 (P1, P1b 5, P2)",
                                          "round 3 (P1, P1b 5, P2)", "P1b 20", "P3/P5", "P4"]
    assert all(sorted(s["order"]) == ["baseline", "ours"] for s in steps)
    firsts = [s["order"][0] for s in steps]
    # From one round to the next, and on through the measures run once.
    assert all(a != b for a, b in zip(firsts[:-1], firsts[1:], strict=True))
    # The seed alone decides: an even one lets ours go first.
    assert firsts[0] == ("ours" if seed % 2 == 0 else "baseline")
    assert steps == benchlib.schedule(seed, 3, "P1, P1b 5, P2", ["P1b 20", "P3/P5", "P4"])
    assert [s["round"] for s in steps] == [1, 2, 3, None, None, None]


# -- statistics and targets ----------------------------------------------------


def test_percentiles_interpolate_between_ranks():
    values = [5, 1, 4, 2, 3]
    assert benchlib.percentile(values, 50) == 3
    assert benchlib.percentile(values, 95) == pytest.approx(4.8)
    assert benchlib.percentile([], 50) is None
    assert benchlib.summarize([2.0]) == {"n": 1, "p50": 2.0, "p95": 2.0, "min": 2.0, "max": 2.0}


@pytest.mark.parametrize("target,ours,baseline,met", [
    (benchlib.Target("at_most", 2.5), 2.5, None, True),
    (benchlib.Target("at_most", 2.5), 2.6, 9.0, False),
    (benchlib.Target("ratio_at_most", 0.5), 7.0, 14.0, True),
    (benchlib.Target("ratio_at_most", 0.5), 7.1, 14.0, False),
    (benchlib.Target("ratio_at_least", 0.8), 80.0, 100.0, True),
    (benchlib.Target("ratio_at_least", 0.8), 79.0, 100.0, False),
    (benchlib.Target("added_at_most", 0.5), 1.4, 1.0, True),
    (benchlib.Target("added_at_most", 0.5), 1.6, 1.0, False),
    # Nothing to judge: not "met", not "missed".
    (benchlib.Target("at_most", 2.5), None, 1.0, None),
    (benchlib.Target("ratio_at_most", 0.5), 1.0, None, None),
    (benchlib.Target("ratio_at_most", 0.5), 1.0, 0.0, None),
])
def test_targets(target, ours, baseline, met):
    assert target.met(ours, baseline) is met


def test_table_has_every_column_and_says_what_was_missed():
    rows = [benchlib.row("P1 POST -> ready, p50", "s", 2.0, 3.1, benchlib.Target("at_most", 2.5)),
            benchlib.row("P1b 5 at once: all ready", "s", 9.0, 14.0, benchlib.Target("ratio_at_most", 0.5)),
            benchlib.row("P5 killed tunnel -> answers", "s", 1.2, None, benchlib.Target("at_most", 3),
                         note="the baseline has no tunnel")]
    table = benchlib.format_table(rows)
    lines = table.splitlines()
    assert [c.strip() for c in lines[0].split("|")] == ["measure", "ours", "baseline", "ratio", "target", "met?"]
    assert [c.strip() for c in lines[2].split("|")] == ["P1 POST -> ready, p50", "2.00 s", "3.10 s", "0.65x",
                                                        "<= 2.5 s", "yes"]
    assert [c.strip() for c in lines[3].split("|")][3:] == ["0.64x", "<= 0.5x baseline", "NO, 0.14x over"]
    assert [c.strip() for c in lines[4].split("|")][2:4] == ["-", "-"]
    assert "P5 killed tunnel -> answers: the baseline has no tunnel" in table


@pytest.mark.parametrize("target,ours,baseline,missed", [
    (benchlib.Target("at_most", 2.5), 5.7, 7.55, "NO, 3.20 s over"),
    (benchlib.Target("at_most", 0), 3, 0, "NO, 3 over"),  # servers lost: a count
    (benchlib.Target("ratio_at_most", 0.7), 60.0, 40.0, "NO, 0.80x over"),
    (benchlib.Target("ratio_at_least", 0.8), 50.0, 125.0, "NO, 0.40x short"),
    (benchlib.Target("added_at_most", 0.5), 10.5, 9.0, "NO, 1.00 ms over"),
    (benchlib.Target("at_most", 8), 7.9, None, "yes"),
])
def test_a_missed_target_says_by_how_much(target, ours, baseline, missed):
    unit = "ms" if target.kind == "added_at_most" else "" if isinstance(ours, int) else "s"
    line = benchlib.format_table([benchlib.row("m", unit, ours, baseline, target)]).splitlines()[2]
    assert line.split(" | ")[-1] == missed


def test_report_is_json_with_rows_raw_meta_and_firewall_events():
    rows = [benchlib.row("P4 servers lost", "", 0, 3, benchlib.Target("at_most", 0))]
    data = json.loads(benchlib.dumps(benchlib.report(rows, {"ours": {"p1": []}}, {"smoke": True},
                                                     [{"event": "firewall opened"}, {"event": "firewall closed"}])))
    assert data["schema"] == "unchained-bench/1"
    assert data["rows"][0]["met"] is True and data["rows"][0]["ratio"] == 0
    assert [e["event"] for e in data["events"]] == ["firewall opened", "firewall closed"]


# -- the SchedLog ----------------------------------------------------------------

def handled(when, number, name, who, port):
    """A command line as the lab's schedd writes it with SCHEDD_DEBUG = D_COMMAND."""
    return (f"11/27/26 {when} Calling HandleReq <command_handler> (0) for command {number} ({name}) "
            f"from {who} <10.77.0.11:{port}>\n")


SCHEDLOG = "".join([
    handled("16:03:09", 516, "QUERY_JOB_ADS", "jupyterhub@lab.test", 33779),
    "11/27/26 16:03:09 Number of Active Workers 0\n",
    "11/27/26 16:03:09 Return from HandleReq <command_query_job_ads> (handler: 0.002059s, sec: 0.002s)\n",
    handled("16:03:10", 516, "QUERY_JOB_ADS", "alice@lab.test", 35607),
    handled("16:03:10", 525, "QUERY_JOB_ADS_WITH_AUTH", "bob@lab.test", 35608),
    handled("16:03:11", 509, "GET_JOB_CONNECT_INFO", "alice@lab.test", 40001),
    handled("16:03:11", 1111, "QMGMT_READ_CMD", "alice@lab.test", 40002),
    handled("16:03:12", 516, "QUERY_JOB_ADS", "condor@lab.test", 40215),
    handled("16:03:19", 516, "QUERY_JOB_ADS", "jupyterhub@lab.test", 35611),
])


def test_schedd_commands_are_counted_by_name_and_identity():
    commands = benchlib.schedd_commands(SCHEDLOG)
    assert commands[("QUERY_JOB_ADS", "jupyterhub@lab.test")] == 2
    assert sum(commands.values()) == 7  # every "Calling HandleReq" line, nothing else
    ours = {"jupyterhub@lab.test", "alice@lab.test", "bob@lab.test"}
    baseline = {"alice@lab.test", "bob@lab.test"}
    assert benchlib.count_queries(commands, ours) == 4
    assert benchlib.count_queries(commands, baseline) == 2
    # The tunnel's commands are not queries, but they are counted among all commands.
    assert benchlib.count_all(commands, baseline) == 4
    # Root's condor_q (the bench's own, mapped to condor@) is nobody's hub.
    assert benchlib.count_queries(commands, {"condor@lab.test"}) == 1


def test_log_reads_follow_a_rotation_and_refuse_two():
    assert benchlib.log_reads((7, 100), (7, 180), None) == [("log", 100)]
    # Rotated once: the rest of the old file (now .old, same inode), then the new one.
    assert benchlib.log_reads((7, 100), (9, 40), (7, 150)) == [("old", 100), ("log", 0)]
    with pytest.raises(ValueError, match="more than once"):
        benchlib.log_reads((7, 100), (11, 40), (9, 150))
    with pytest.raises(ValueError, match="shrank"):
        benchlib.log_reads((7, 100), (7, 50), None)


# -- spawn phases --------------------------------------------------------------------

def journal(lines):
    """`journalctl -o json` output for (epoch, message) pairs."""
    return "\n".join(json.dumps({"__REALTIME_TIMESTAMP": str(int(t * 1e6)), "MESSAGE": m}) for t, m in lines)


OURS_LOG = [
    (1000.10, "[I 2026-11-27 16:01:52.378 JupyterHub spawner:265] alice:e2e: Preparing your files"),
    (1000.22, "[I 2026-11-27 16:01:52.493 JupyterHub spawner:265] alice:e2e: Submitted job 25.0 for 1 CPU core(s)"),
    (1000.25, "[I 2026-11-27 16:01:52.533 JupyterHub spawner:265] alice:e2e: Job 25.0 is waiting for a machine"),
    (1000.80, "[I 2026-11-27 16:01:53.080 JupyterHub spawner:265] alice:e2e: Job 25.0 is running on ex2.lab.test; "
              "connecting to it"),
    (1003.55, "[I 2026-11-27 16:01:55.827 JupyterHub spawner:265] alice:e2e: Connected; waiting for JupyterLab to "
              "answer"),
    (1004.30, "[I 2026-11-27 16:01:56.587 JupyterHub base:1192] User alice:e2e took 4.251 seconds to start"),
    (1004.31, "[I 2026-11-27 16:01:56.587 JupyterHub proxy:335] Adding user alice to proxy /user/alice/e2e/ => "
              "http://127.0.0.1:32905"),
]


def test_spawn_phases_of_ours_from_its_journal():
    entries = benchlib.journal_entries(journal(OURS_LOG) + '\n{"MESSAGE": [255, 0], "__REALTIME_TIMESTAMP": "1"}\n')
    assert len(entries) == len(OURS_LOG)  # binary messages skipped
    phases = dict(benchlib.spawn_phases(1000.0, 1004.5, entries, benchlib.OURS_MARKERS))
    assert list(phases) == [p for p, _ in benchlib.OURS_MARKERS] + [benchlib.READY_SEEN]
    assert phases["submit"] == pytest.approx(0.22)
    assert phases["queue, negotiation, job start"] == pytest.approx(0.58)
    assert phases["server start, handshake, tunnel"] == pytest.approx(2.75)
    assert phases["server answers"] == pytest.approx(0.75)
    assert phases["proxy registration"] == pytest.approx(0.01)
    assert phases[benchlib.READY_SEEN] == pytest.approx(0.19)
    assert sum(phases.values()) == pytest.approx(4.5)


def test_a_missing_marker_leaves_its_time_to_the_next_phase_and_older_lines_do_not_count():
    log = [(990.0, "Job submitted. output: 1 job(s) submitted to cluster 7."),  # an earlier spawn
           (1000.3, "Job submitted. output: 1 job(s) submitted to cluster 8."),
           (1003.0, "User bob took 2.9 seconds to start"),
           (1003.1, "Adding user bob to proxy /user/bob/ => http://ex1.lab.test:41234")]
    phases = benchlib.spawn_phases(1000.0, 1003.4, benchlib.journal_entries(journal(log)),
                                   benchlib.BASELINE_MARKERS)
    assert phases[0] == ("submit", pytest.approx(0.3))
    assert phases[1] == ("queue, negotiation, job start, port posted", None)
    assert phases[2] == ("server answers", pytest.approx(2.7))
    assert sum(s for _, s in phases if s is not None) == pytest.approx(3.4)


def test_job_ad_phases_and_medians():
    ad = {"QDate": 100, "JobCurrentStartDate": 101, "JobCurrentStartExecutingDate": 103}
    assert list(benchlib.job_ad_phases(ad).values()) == [1, 2]
    assert list(benchlib.job_ad_phases({"QDate": 100}).values()) == [None, None]
    spawns = [[("submit", 0.2), ("answers", 1.0)], [("submit", 0.4), ("answers", None)], [("submit", 0.3)]]
    assert benchlib.median_phases(spawns) == [("submit", 0.3), ("answers", 1.0)]


def test_cpu_busy_from_proc_stat():
    before = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n"
    after = "cpu  250 0 100 850 50 0 0 0 0 0\n"
    assert benchlib.cpu_busy(before, after) == pytest.approx(200 / 250)
    assert benchlib.cpu_busy(before, before) is None


# `ps -e -o unit=,pid=,rss=` on the hub: the hub, its proxy, a tunnel's sudo
# and ssh (as the user, still in the hub's unit), and other units' processes.
PS = """condor.service 310 20984
jupyterhub.service 401 123592
jupyterhub.service 402 115552
jupyterhub.service 977 6100
jupyterhub.service 978 9800
- 1 1200
jupyterhub.service-extra 50 50
"""
# `grep -H ^Pss: /proc/PID/smaps_rollup ...` of those: 978 ended in between.
PSS = """/proc/401/smaps_rollup:Pss:               90000 kB
/proc/402/smaps_rollup:Pss:               60000 kB
/proc/977/smaps_rollup:Pss:                 900 kB
"""


def test_the_hub_units_memory_as_rss_and_pss():
    processes = benchlib.unit_processes(PS, "jupyterhub.service")
    assert processes == {401: 123592, 402: 115552, 977: 6100, 978: 9800}
    assert benchlib.unit_processes(PS, "unchained-bench-baseline.service") == {}
    assert benchlib.pss_kib(PSS) == 90000 + 60000 + 900
    # Nothing readable (not root, or all gone): unknown, not zero.
    assert benchlib.pss_kib("grep: /proc/401/smaps_rollup: Permission denied\n") is None
    assert benchlib.per_server_mb(800 * 2**20, 100) == 8
    assert benchlib.per_server_mb(800 * 2**20, 0) is None and benchlib.per_server_mb(None, 100) is None


def test_unit_usage_and_pool_cpus():
    assert benchlib.unit_cpu_seconds("CPUUsageNSec=2500000000\n") == 2.5
    assert benchlib.unit_cpu_seconds("CPUUsageNSec=[not set]\n") is None
    # A partitionable slot and its dynamic slots name the same machine.
    # (as condor_status prints it: TotalCpus is a real).
    status = "ex1.lab.test 64.0\nex1.lab.test 64.0\nex2.lab.test 64.0\n"
    assert benchlib.pool_cpus(status) == 128


# -- the baseline hub ----------------------------------------------------------------

SETTINGS = benchlib.BaselineSettings(
    token="t" * 64, state_dir="/var/lib/unchained-bench/baseline", proxy_port=8010, proxy_api_port=8011,
    hub_port=8091, hub_connect_url="http://hub.lab.test:8091", ssl_cert="/etc/jupyterhub/tls/hub.crt",
    ssl_key="/etc/jupyterhub/tls/hub.key", singleuser_cmd="/cvmfs/env/bin/batchspawner-singleuser",
    notebook_cmd="/cvmfs/env/bin/jupyterhub-singleuser", light_cmd="/srv/unchained-bench/light_server.py",
    light_prefix="light-", users=("alice", "bob"), memory_mb=512, light_memory_mb=102, disk_kb=1048576,
    job_marker="UnchainedBench")


class Section(dict):
    def __getattr__(self, name):
        return self.setdefault(name, Section())

    def __setattr__(self, name, value):
        self[name] = value


def load_baseline_config(monkeypatch, handlers):
    """Run the config as JupyterHub would, with stand-ins for the two modules it imports."""
    api = types.ModuleType("batchspawner.api")
    api.BatchSpawnerAPIHandler = object()
    apihandlers = types.ModuleType("jupyterhub.apihandlers")
    apihandlers.default_handlers = handlers
    for name, module in (("batchspawner", types.ModuleType("batchspawner")), ("batchspawner.api", api),
                         ("jupyterhub", types.ModuleType("jupyterhub")), ("jupyterhub.apihandlers", apihandlers)):
        monkeypatch.setitem(sys.modules, name, module)
    c = Section()
    exec(compile(benchlib.baseline_config(SETTINGS), "jupyterhub_config.py", "exec"), {"get_config": lambda: c})
    return c, api.BatchSpawnerAPIHandler


def test_baseline_config_is_stock_condorspawner_with_the_same_requests(monkeypatch):
    c, _ = load_baseline_config(monkeypatch, [])
    assert c.JupyterHub.spawner_class == "batchspawner.CondorSpawner"
    assert c.JupyterHub.bind_url == "https://:8010"
    assert c.JupyterHub.hub_bind_url == "http://0.0.0.0:8091"
    assert c.JupyterHub.hub_connect_url == "http://hub.lab.test:8091"
    assert c.ConfigurableHTTPProxy.api_url == "http://127.0.0.1:8011"
    assert c.JupyterHub.db_url == "sqlite:////var/lib/unchained-bench/baseline/jupyterhub.sqlite"
    assert c.JupyterHub.cleanup_servers is False
    assert c.JupyterHub.services == [{"name": "bench-admin", "api_token": "t" * 64}]
    assert c.CondorSpawner.req_nprocs == "1" and c.CondorSpawner.req_memory == "512"
    options = c.CondorSpawner.req_options.splitlines()
    assert options == ["RequestDisk = 1048576", "ShouldTransferFiles = IF_NEEDED",
                       "WhenToTransferOutput = ON_EXIT", '+UnchainedBench = "baseline"']
    assert c.Spawner.cmd == ["/cvmfs/env/bin/jupyterhub-singleuser"]
    # batchspawner's own defaults stay: no exec_prefix, template or poll settings.
    assert set(c.CondorSpawner) == {"req_nprocs", "req_memory", "req_options", "batchspawner_singleuser_cmd"}


def test_baseline_config_puts_the_report_api_back_once(monkeypatch):
    handlers = [(r"/api/users", "users")]
    _, handler = load_baseline_config(monkeypatch, handlers)
    assert handlers[-1] == (r"/api/batchspawner", handler)
    present = [(r"/api/batchspawner", "already")]
    load_baseline_config(monkeypatch, present)
    assert present == [(r"/api/batchspawner", "already")]


def test_light_servers_get_the_light_command_and_memory(monkeypatch):
    c, _ = load_baseline_config(monkeypatch, [])
    light = types.SimpleNamespace(name="light-007", cmd=["x"], req_memory="512")
    c.Spawner.pre_spawn_hook(light)
    assert light.cmd == ["/srv/unchained-bench/light_server.py"] and light.req_memory == "102"
    normal = types.SimpleNamespace(name="bench-p1-0-0", cmd=["x"], req_memory="512")
    c.Spawner.pre_spawn_hook(normal)
    assert normal.cmd == ["x"] and normal.req_memory == "512"


def test_baseline_unit_runs_the_same_jupyterhub_from_a_readable_directory():
    unit = benchlib.baseline_unit("/var/lib/unchained-bench/baseline/jupyterhub_config.py", "/opt/jupyterhub")
    assert "ExecStart=/opt/jupyterhub/bin/jupyterhub -f /var/lib/unchained-bench/baseline/jupyterhub_config.py" in unit
    assert "WorkingDirectory=/\n" in unit and "KillMode=control-group" in unit
    assert "User=" not in unit  # root, for batchspawner's default `sudo -E -u USER`


# -- the light server ------------------------------------------------------------------

LIGHT_SERVER = TESTS / "bench" / "light_server.py"


def http_get(connect):
    deadline = time.monotonic() + 10
    while True:
        try:
            conn = connect()
            break
        except (FileNotFoundError, ConnectionRefusedError):
            assert time.monotonic() < deadline, "the light server did not listen"
            time.sleep(0.05)
    with conn:
        conn.sendall(b"GET /user/alice/light-001/api/status HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := conn.recv(4096):
            data += chunk
    return data


def test_light_server_answers_on_the_socket_ours_gives_it(tmp_path):
    path = tmp_path / "jupyter.sock"
    server = subprocess.Popen([sys.executable, str(LIGHT_SERVER), f"--ServerApp.sock={path}",
                               "--ServerApp.sock_mode=0600", f"--ServerApp.root_dir={tmp_path}"])
    try:
        def connect():
            s = socket.socket(socket.AF_UNIX)
            s.connect(str(path))
            return s
        answer = http_get(connect)
        assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b'{"light": true}')
        assert path.stat().st_mode & 0o077 == 0
    finally:
        server.terminate()
        server.wait(10)


def test_light_server_answers_on_the_port_batchspawner_gives_it():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, JUPYTERHUB_SERVICE_URL=f"http://0.0.0.0:{port}/user/alice/light-001/")
    server = subprocess.Popen([sys.executable, str(LIGHT_SERVER)], env=env)
    try:
        answer = http_get(lambda: socket.create_connection(("127.0.0.1", port)))
        assert answer.startswith(b"HTTP/1.0 200")
    finally:
        server.terminate()
        server.wait(10)


# -- the firewall rule (firewall.py) ------------------------------------------------------

# `nft -j -a list chain inet unchained_lab input` of an execute host with the bench's rule.
NFT_LISTING = json.dumps({"nftables": [
    {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
    {"chain": {"family": "inet", "table": "unchained_lab", "name": "input", "handle": 1}},
    {"rule": {"family": "inet", "table": "unchained_lab", "chain": "input", "handle": 2, "expr": []}},
    {"rule": {"family": "inet", "table": "unchained_lab", "chain": "input", "handle": 3, "expr": []}},
    {"rule": {"family": "inet", "table": "unchained_lab", "chain": "input", "handle": 4,
              "comment": "unchained-bench-baseline", "expr": []}},
]})


def test_the_bench_rule_is_found_by_its_comment_only():
    assert firewall.baseline_rule_handles(NFT_LISTING) == [4]
    assert firewall.baseline_rule_handles(json.dumps({"nftables": []})) == []


def test_the_bench_rule_admits_tcp_from_the_hub_to_the_ephemeral_ports_only():
    assert firewall.baseline_rule("10.77.0.11", (32768, 60999)) == (
        'add rule inet unchained_lab input ip saddr 10.77.0.11 tcp dport 32768-60999 accept '
        'comment "unchained-bench-baseline"\n')
    with pytest.raises(ValueError):
        firewall.baseline_rule("10.77.0.11", ("32768; flush ruleset", 60999))


# -- the plot --------------------------------------------------------------------------

def test_plot_writes_a_png_with_both_spawners(tmp_path):
    path = tmp_path / "spawn-times.png"
    benchlib.plot_spawn_times({"POST -> ready": {"ours, jupyter-2026.11": [2.6, 2.8], "ours, lab-no-image": [2.1, 2.3],
                                                 "baseline": [3.1, 4.7]},
                               "POST -> first kernel result": {"ours, jupyter-2026.11": [3.0],
                                                               "ours, lab-no-image": [], "baseline": []}}, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- the rows of a run --------------------------------------------------------

def test_rows_of_a_run_compare_like_with_like():
    spawn = {"phases": [], "job_ad": {}}
    image, no_image = "jupyter-2026.11", "lab-no-image"
    raw = {"ours": {"p1": [{"ready": t, "first_result": t + 1, "environment": env, **spawn}
                           for t, env in ((2.0, no_image), (3.0, image), (2.2, no_image), (3.4, image),
                                          (2.4, no_image), (3.2, image))],
                    "p1b_5": [7.0, None, 9.0],  # a failed round counts for nothing
                    "p1b_20": 30.0,
                    "p1b_stats": {"lost_5": [0, 2, 0], "cpu_busy": [0.9, None, 0.8]},
                    "p2": [{"latency_ms": [1.2, 1.3, 1.4], "download_mb_per_s": 85.0}],
                    "p3_p5": {"queries_per_minute": {1: 6.0, 20: 6.0}, "tunnel_back": 1.5,
                              "restart_all_answer": 4.0},
                    "p4": {"all_ready": 55.0, "lost": 0, "hub_cpu_seconds": 40.0, "hub_pss_per_server_mb": 9.5,
                           "hub_rss_per_server_mb": 30.0}},
           "baseline": {"p1": [{"ready": t, "first_result": t + 1.5, "environment": None, **spawn}
                               for t in (3.1, 4.7)],
                        "p1b_5": [14.0], "p1b_20": 40.0,
                        "p2": [None, {"latency_ms": [1.0], "download_mb_per_s": 100.0}],
                        "p3_p5": {"queries_per_minute": {1: 2.0, 20: 40.0}},
                        "p4": {"all_ready": 50.0, "lost": 0, "hub_cpu_seconds": 20.0,
                               "hub_pss_per_server_mb": 1.0}}}
    rows = {r["measure"]: r for r in benchlib.make_rows(raw)}
    # P1 in each of ours' environments, each beside the baseline's one way to run.
    assert rows["P1 lab-no-image: POST -> ready, p50"]["ours"] == pytest.approx(2.2)
    assert rows["P1 jupyter-2026.11: POST -> ready, p50"]["ours"] == pytest.approx(3.2)
    for env in (image, no_image):
        assert rows[f"P1 {env}: POST -> ready, p50"]["baseline"] == pytest.approx(3.9)
        assert rows[f"P1 {env}: POST -> first kernel result, p95"]["baseline"] == pytest.approx(6.12)
    # The targets are for the default environment (in the image).
    assert rows["P1 jupyter-2026.11: POST -> ready, p50"]["target"] == "<= 2.5 s"
    assert rows["P1 jupyter-2026.11: POST -> ready, p95"]["target"] == "<= 3.5 s"
    assert rows["P1 jupyter-2026.11: POST -> ready, p50"]["met"] is False
    assert rows["P1 lab-no-image: POST -> ready, p50"]["met"] is None
    assert "ours in jupyter-2026.11 (the default, in the job image)" in \
        rows["P1 jupyter-2026.11: POST -> ready, p50"]["note"]
    assert rows["P1b 5 at once: all ready"]["ours"] == 8.0
    assert rows["P1b 20 at once: all ready"]["target"] == "<= 0.7x baseline"
    assert rows["P1b 20 at once: all ready"]["met"] is False  # 0.75x
    assert rows["P1b 5 at once: lost, all rounds"]["ours"] == 2
    assert rows["P1b 20 at once: lost"]["ours"] is None  # not measured
    assert rows["P1b machine CPU busy while starting"]["ours"] == pytest.approx(85)
    assert rows["P2 kernel execute latency, p50"]["met"] is True  # 1.3 ms against 1.0 ms direct
    # The target, whatever the number of servers.
    assert rows["P3 schedd queries/min, 20 server(s)"]["target"] == "<= 2 /min"
    assert rows["P3 schedd queries/min, 20 server(s)"]["met"] is False
    assert rows["P4 100 light servers: all ready"]["met"] is True  # 55 s, target 60 s
    assert rows["P4 hub CPU time"]["target"] == "<= 1.5x baseline" and rows["P4 hub CPU time"]["met"] is False
    assert rows["P4 hub PSS per running server"]["target"] == "<= 8 MB"
    assert rows["P4 hub PSS per running server"]["met"] is False
    assert rows["P4 hub RSS per running server"]["ours"] == 30.0
    assert rows["P5 killed tunnel -> answers"]["baseline"] is None
    assert rows["P5 hub restart -> 20 servers answer"]["target"] == "<= 5 s"
    assert rows["P5 hub restart -> 20 servers answer"]["met"] is True


# -- what a run measured, and the README's table -----------------------------------------

def test_the_commit_and_whether_the_tree_was_clean():
    clean = benchlib.source_state("25f7cb6c1c65cabad330a240d649a57fffab5fd6", "")
    assert clean == {"commit": "25f7cb6c1c65cabad330a240d649a57fffab5fd6", "clean": True, "changes": []}
    dirty = benchlib.source_state("25f7cb6c1c65cabad330a240d649a57fffab5fd6", " M hub/x.py\n?? notes.txt\n")
    assert dirty["clean"] is False and dirty["changes"] == [" M hub/x.py", "?? notes.txt"]
    # git could not say (not a checkout, or refused it): unknown, never "clean".
    assert benchlib.source_state("", None) == {"commit": None, "clean": None, "changes": []}
    assert benchlib.source_state("25f7cb6c1c65", None)["clean"] is None
    assert benchlib.describe_source(clean) == "commit 25f7cb6, clean tree"
    assert benchlib.describe_source(dirty) == "commit 25f7cb6, with uncommitted changes"


def sample_report():
    """A bench.json as a full run writes it, with one target met and one missed."""
    rows = [benchlib.row("P1 jupyter-2026.11: POST -> ready, p50", "s", 3.1, 7.5, benchlib.Target("at_most", 2.5),
                         note="in the job image"),
            benchlib.row("P2 100 MB download", "MB/s", 130.0, 150.0, benchlib.Target("ratio_at_least", 0.8)),
            benchlib.row("P4 servers lost", "", 0, 0, benchlib.Target("at_most", 0))]
    meta = {"command": "tests/bench/bench.py --seed 7", "rounds": 3, "spawns": 10, "seed": 7,
            "source": benchlib.source_state("0123456789abcdef0123456789abcdef01234567", ""),
            "started": "2026-12-01T10:00:00Z", "seconds": 2700,
            "machine": {"host": "ci", "cpus": 2, "memory_gb": 23.4, "os": "Debian GNU/Linux 12 (bookworm)"}}
    return json.loads(benchlib.dumps(benchlib.report(rows, {}, meta, [])))


def test_the_table_from_a_bench_json_says_how_the_run_was_made_and_what_was_missed():
    block = table.readme_block(sample_report(), "docs/bench/bench.json")
    prose, fenced = block.split("\n\n```\n")
    assert " ".join(prose.split()) == (
        "The run quoted, [`docs/bench/bench.json`](docs/bench/bench.json): `tests/bench/bench.py --seed 7`; "
        "3 rounds of 10 spawns per hub, seed 7; commit 0123456, clean tree; 2 CPUs, 23.4 GB, "
        "Debian GNU/Linux 12 (bookworm); 2026-12-01, 45 minutes.")
    lines = fenced.splitlines()
    assert [c.strip() for c in lines[2].split("|")] == ["P1 jupyter-2026.11: POST -> ready, p50", "3.10 s", "7.50 s",
                                                        "0.41x", "<= 2.5 s", "NO, 0.60 s over"]
    assert [c.strip() for c in lines[3].split("|")][-1] == "yes"
    assert [c.strip() for c in lines[4].split("|")][1:3] == ["0", "0"]
    assert "  P1 jupyter-2026.11: POST -> ready, p50: in the job image" in lines
    assert block.endswith("```\n")


def test_table_rewrites_only_the_block_between_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{table.BEGIN}\nold table\n{table.END}\nafter\n")
    bench = tmp_path / "docs" / "bench.json"
    bench.parent.mkdir()
    bench.write_text(json.dumps(sample_report()))
    assert table.main(["--readme", str(readme), str(bench)]) == 0
    text = readme.read_text()
    assert text.startswith(f"# x\n\nbefore\n{table.BEGIN}\nThe run quoted, [`docs/bench.json`](docs/bench.json)")
    assert text.endswith(f"```\n{table.END}\nafter\n") and "old table" not in text
    # Again: nothing changes.
    assert table.main(["--readme", str(readme), str(bench)]) == 0 and readme.read_text() == text
    with pytest.raises(ValueError, match="needs one line"):
        table.replace_block("no markers here\n", "x\n")
    with pytest.raises(ValueError, match="needs one line"):
        table.replace_block(f"{table.END}\n{table.BEGIN}\n", "x\n")


def test_the_readme_table_is_what_table_py_makes_of_docs_bench_json():
    report = json.loads((REPO / "docs" / "bench" / "bench.json").read_text())
    readme = (REPO / "README.md").read_text()
    assert table.replace_block(readme, table.readme_block(report, "docs/bench/bench.json")) == readme, \
        "README.md's bench table is not docs/bench/bench.json's: run " \
        "tests/bench/table.py --readme README.md docs/bench/bench.json"
