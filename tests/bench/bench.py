"""Our spawner against stock batchspawner 1.3.0, side by side, on the running
lab: spawn time, concurrent spawns, kernel latency and download throughput,
schedd queries, 100 light servers at once, recovery. See README.md.

    /usr/bin/python3 tests/bench/bench.py [--rounds N] [--spawns N] [--seed N] [--smoke] [--out DIR]

Needs root (as labctl) and the lab to itself for the whole run.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parents[1]
LAB_DIR = REPO_DIR / "tests" / "lab"
# The bench's modules and the lab's (labtest's labctl wrapper, REST client, labkit).
sys.path[:0] = [str(BENCH_DIR), str(LAB_DIR)]

import baseline  # noqa: E402
import benchlib  # noqa: E402
from hubclient import Hub  # noqa: E402
from labkit import config  # noqa: E402
from labkit.config import LabError  # noqa: E402
from labtest import GUEST_CA, Lab  # noqa: E402

USERS = ("alice", "bob")
# Our hub's account (unchained_hub's service_user) and the pool's UID_DOMAIN:
# the identities its schedd commands carry in the SchedLog.
HUB_ACCOUNT = "jupyterhub"
UID_DOMAIN = "lab.test"
OURS_UNIT = "jupyterhub"
SCHEDLOG = "/var/log/condor/SchedLog"
# The same requests for both spawners: 1 CPU, 512 MB (102 MB for light
# servers, ours' minimum), 1 GB disk.
MEMORY_MB, LIGHT_MEMORY_MB, DISK_KB = 512, 102, 1024 * 1024
LIGHT_ENVIRONMENT = "lab-bench-light"
READY_TIMEOUT = 300
# Answers to a POST after which the server may still become ready.
ACCEPTED = (201, 202, "no answer")


def say(message):
    print(f"bench: {message}", flush=True)


class BenchError(Exception):
    pass


@dataclass
class Side:
    """One hub under test."""
    name: str
    hub: Hub
    guest_url: str        # its proxy, as the hub host reaches it
    unit: str
    options: dict         # user_options of a normal server
    environments: tuple   # P1's, in user_options (None: the hub has no choice)
    light_options: dict   # user_options of a P4 server
    markers: tuple        # log lines of its spawn phases
    identities: frozenset  # who its schedd commands come from
    job_key: str          # where the spawner's state keeps the job id
    restart: object       # restarts the hub
    started: set = field(default_factory=set)


# -- servers --------------------------------------------------------------------

def servers_named(prefix, count):
    """(user, server name) pairs, the users taking turns."""
    return [(USERS[i % len(USERS)], f"{prefix}{i:03d}") for i in range(count)]


def post(side, user, name, options, posted):
    """POST one server; its answer goes into `posted` (refusals are errors later).
    A POST with no answer (a timeout) may still have started the spawn: whether
    the server shows up decides."""
    side.started.add((user, name))
    try:
        posted[(user, name)] = side.hub.request("POST", Hub.server_path(user, name), options, timeout=60)
    except OSError as e:
        posted[(user, name)] = ("no answer", str(e))


def user_servers(side, user):
    status, model = side.hub.request("GET", f"/hub/api/users/{user}")
    if status != 200:
        raise BenchError(f"{side.name}: GET user {user} answered {status}: {model}")
    return model.get("servers") or {}


def wait_ready(side, servers, t0, posted, timeout=READY_TIMEOUT, interval=0.1):
    """Seconds from t0 (monotonic) until each server was seen ready; None for a
    server that was refused, failed or did not get ready in time (lost). One GET
    per user per interval, however many servers: the polling must not load the
    hub. Runs while the POSTs are still in flight (JupyterHub answers a POST
    only when the spawn is done or slow_spawn_timeout has passed)."""
    ready = {s: None for s in servers}
    failed = set()
    users = sorted({u for u, _ in servers})
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        waiting = [s for s in servers if ready[s] is None and s not in failed]
        if not waiting:
            break
        for user in users:
            # POSTs answered before this GET: their servers are in its answer
            # unless the hub gave up on them (a POST answered later may not be).
            answered_before = dict(posted)
            models = user_servers(side, user)
            now = time.monotonic()
            for server in waiting:
                if server[0] != user:
                    continue
                model = models.get(server[1])
                answered = answered_before.get(server)
                if model and model.get("ready"):
                    ready[server] = now - t0
                elif answered and (answered[0] not in ACCEPTED or model is None):
                    failed.add(server)  # refused, or the hub gave up on it
        time.sleep(interval)
    return ready


def start_all(side, servers, options, refused=None):
    """POST all at once; seconds from the first POST until each is ready (None: lost).
    A refused POST is an error, unless `refused` (a dict) is given to collect them."""
    posted = {}
    t0 = time.monotonic()
    with ThreadPoolExecutor(min(len(servers), 100)) as pool:
        for server in servers:
            pool.submit(post, side, *server, options, posted)
        ready = wait_ready(side, servers, t0, posted)
    bad = {s: a for s, a in posted.items() if a[0] not in ACCEPTED}
    if bad and refused is None:
        server, (status, body) = next(iter(bad.items()))
        raise BenchError(f"{side.name}: {len(bad)} start(s) refused, e.g. {server}: {status} {body}")
    if refused is not None:
        refused.update(bad)
    return ready


def stop_all(side, servers, timeout=180):
    deadline = time.monotonic() + timeout

    def delete(server):
        # A server still starting cannot be stopped yet: JupyterHub refuses
        # (400 "pending spawn"; 500 when the request races the spawn), so ask
        # again until the spawn has ended one way or the other.
        while True:
            # remove: the named server is deleted, not kept stopped in the hub's database.
            status, body = side.hub.request("DELETE", Hub.server_path(*server), {"remove": True}, timeout=timeout)
            if status in (202, 204, 404):
                return
            if time.monotonic() > deadline:
                raise BenchError(f"{side.name}: stopping {server} answered {status}: {body}")
            time.sleep(1)
    with ThreadPoolExecutor(min(max(len(servers), 1), 20)) as pool:
        list(pool.map(delete, servers))
    deadline = time.monotonic() + timeout
    users = sorted({u for u, _ in servers})
    while time.monotonic() < deadline:
        left = [(u, n) for u in users for n in user_servers(side, u) if (u, n) in servers]
        if not left:
            side.started.difference_update(servers)
            return
        time.sleep(0.5)
    raise BenchError(f"{side.name}: servers still there {timeout} s after stop: {left}")


def wait_queue_empty(lab, timeout=120):
    """Until no job of the bench's users is idle or running (slots are free again)."""
    owners = " || ".join(f'Owner == "{u}"' for u in USERS)
    constraint = f"(JobStatus == 1 || JobStatus == 2) && ({owners})"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not lab.exec("hub", "condor_q", "-allusers", "-constraint", constraint, "-af", "ClusterId").stdout.split():
            return
        time.sleep(1)
    raise BenchError(f"jobs of {', '.join(USERS)} still queued {timeout} s after their servers stopped")


def require_cpus(lab, needed):
    cpus = benchlib.pool_cpus(lab.exec("hub", "condor_status", "-af", "Machine", "TotalCpus").stdout)
    if cpus < needed:
        raise BenchError(f"the pool has {cpus} CPUs, {needed} servers at once need {needed}: "
                         "raise unchained_htcondor::num_cpus of ex1 and ex2 in tests/lab/hiera")


def answers(side, server, timeout=2):
    try:
        return side.hub.user_api(server[0], "api/status", server[1], timeout=timeout)[0] == 200
    except OSError:
        return False


# -- P1: one spawn, its phases and its first kernel result ----------------------

def guest_kernel_bench(lab, side, server, what, **params):
    params = {"url": f"{side.guest_url}user/{server[0]}/{server[1]}/", "ca": GUEST_CA, "token": side.hub.token,
              "what": what, **params}
    out = lab.hub_helper("kernel_client.py", "bench", params=params, timeout=900)
    return json.loads(out.strip().splitlines()[-1])


def job_ad(lab, job_id):
    out = lab.exec("hub", "condor_q", str(job_id), "-json", "-attributes",
                   "QDate,JobCurrentStartDate,JobCurrentStartExecutingDate", check=False).stdout
    ads = json.loads(out) if out.strip() else []
    return ads[0] if ads else {}


def one_spawn(lab, side, server, options):
    """POST -> ready, -> first kernel result, and where the time went."""
    t_post = time.time()
    try:
        ready = start_all(side, [server], options)[server]
        if ready is None:
            raise BenchError(f"{side.name}: {server} did not get ready")
        first = guest_kernel_bench(lab, side, server, ["first"])["first_seconds"]
        # The hub's journal, with journald's own time stamps (hosts share this machine's clock).
        journal = lab.exec("hub", "journalctl", "-u", side.unit, "--since", f"@{int(t_post)}", "-o", "json",
                           "--output-fields=MESSAGE", "--no-pager", "-q").stdout
        phases = benchlib.spawn_phases(t_post, t_post + ready, benchlib.journal_entries(journal), side.markers)
        job_id = ((user_servers(side, server[0]).get(server[1]) or {}).get("state") or {}).get(side.job_key)
        ad_phases = benchlib.job_ad_phases(job_ad(lab, job_id)) if job_id else {}
    finally:
        stop_all(side, [server])
    return {"ready": ready, "first_result": ready + first, "phases": phases, "job_ad": ad_phases}


def p1(lab, side, count, round_no, turn, results):
    """Sequential spawns into `results`, so that a failed one keeps the others.
    Ours spawns in each of its environments in turn, which goes first
    alternating from one spawn to the next (from `turn`, the round's)."""
    for i in range(count):
        user = USERS[i % len(USERS)]
        for environment in benchlib.turns(side.environments, turn + i):
            options = side.options if environment is None else {**side.options, "environment": environment}
            k = side.environments.index(environment)
            sample = one_spawn(lab, side, (user, f"bench-p1-{round_no}-{i}-{k}"), options)
            results.append({**sample, "environment": environment, "round": round_no + 1, "spawn": i + 1})


def p1b(lab, side, count, stats):
    """Seconds until all `count` servers POSTed at once are ready; into `stats`:
    how busy the machine's CPUs were meanwhile, and how many were lost."""
    require_cpus(lab, count)
    servers = servers_named(f"bench-p1b{count}-", count)
    try:
        stat = Path("/proc/stat").read_text()
        ready = start_all(side, servers, side.options)
        stats.setdefault("cpu_busy", []).append(benchlib.cpu_busy(stat, Path("/proc/stat").read_text()))
    finally:
        stop_all(side, servers)
        wait_queue_empty(lab)
    lost = [s for s, t in ready.items() if t is None]
    stats.setdefault(f"lost_{count}", []).append(len(lost))
    if lost:
        raise BenchError(f"{side.name}: {len(lost)} of {count} servers never got ready")
    return max(ready.values())


def p2(lab, side, messages, download_bytes):
    server = (USERS[0], "bench-p2")
    try:
        if start_all(side, [server], side.options)[server] is None:
            raise BenchError(f"{side.name}: {server} did not get ready")
        result = guest_kernel_bench(lab, side, server, ["latency", "download"], messages=messages,
                                    download_bytes=download_bytes)
    finally:
        stop_all(side, [server])
    d = result["download"]
    return {"latency_ms": result["latency_ms"], "download_mb_per_s": d["bytes"] / d["seconds"] / 1e6, **d}


# -- P3: schedd queries, counted in the SchedLog --------------------------------

def stat_log(lab, path):
    result = lab.exec("hub", "stat", "-c", "%i %s", path, check=False)
    if result.returncode != 0:
        return None
    inode, size = result.stdout.split()
    return int(inode), int(size)


def schedd_commands_during(lab, seconds):
    """Every schedd command of the next `seconds`, from the SchedLog (D_COMMAND)."""
    before = stat_log(lab, SCHEDLOG)
    time.sleep(seconds)
    reads = benchlib.log_reads(before, stat_log(lab, SCHEDLOG), stat_log(lab, SCHEDLOG + ".old"))
    text = ""
    for which, offset in reads:
        path = SCHEDLOG if which == "log" else SCHEDLOG + ".old"
        text += lab.exec("hub", "tail", "-c", f"+{offset + 1}", path).stdout
    return benchlib.schedd_commands(text)


OURS_DROP_IN = f"/run/systemd/system/{OURS_UNIT}.service.d/unchained-bench.conf"


def wait_hub_answers(side, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if side.hub.request("GET", "/hub/api/")[0] == 200:
                return
        time.sleep(0.2)
    raise BenchError(f"{side.name}: the hub did not answer within {timeout} s of its restart")


@contextlib.contextmanager
def default_status_interval(lab, side):
    """Our hub with the spawner's default status_interval (the lab's Hiera
    sets 10 s), by a runtime drop-in that adds it to the unit's command line;
    removed again, and the hub restarted as the lab has it, at the end."""
    if side.name != "ours":
        yield
        return
    exec_start = lab.exec("hub", "sed", "-n", "s/^ExecStart=//p", f"/etc/systemd/system/{OURS_UNIT}.service")
    command = exec_start.stdout.strip()
    if not command:
        raise BenchError(f"no ExecStart in {OURS_UNIT}.service on hub")
    lab.exec("hub", "mkdir", "-p", os.path.dirname(OURS_DROP_IN))
    baseline.write_file(lab, "hub", OURS_DROP_IN, f"[Service]\nExecStart=\nExecStart={command} "
                        f"--UnchainedSpawner.status_interval={benchlib.DEFAULT_STATUS_INTERVAL}\n", "0644")
    try:
        lab.exec("hub", "systemctl", "daemon-reload")
        lab.exec("hub", "systemctl", "restart", OURS_UNIT)
        wait_hub_answers(side)
        say(f"ours: status_interval {benchlib.DEFAULT_STATUS_INTERVAL} s (the default) for P3 and P5")
        yield
    finally:
        lab.exec("hub", "rm", "-rf", os.path.dirname(OURS_DROP_IN))
        lab.exec("hub", "systemctl", "daemon-reload")
        lab.exec("hub", "systemctl", "restart", OURS_UNIT)
        wait_hub_answers(side)


def p3_and_p5(lab, side, levels, window, restart, tunnel_kill):
    """Queries per minute with each number of servers running (started step by
    step), then the hub restart with the most of them, then a killed tunnel;
    ours at the default status_interval, for which P3's target is stated."""
    with default_status_interval(lab, side):
        return queries_and_recovery(lab, side, levels, window, restart, tunnel_kill)


def queries_and_recovery(lab, side, levels, window, restart, tunnel_kill):
    results = {"queries_per_minute": {}, "all_commands_per_minute": {}}
    require_cpus(lab, max(levels))
    servers = servers_named("bench-p3-", max(levels))
    running = []
    try:
        for level in levels:
            new = servers[len(running):level]
            running += new
            if any(t is None for t in start_all(side, new, side.options).values()):
                raise BenchError(f"{side.name}: not all of {level} servers got ready")
            time.sleep(5)  # the hubs poll fast while a server starts; let that pass
            commands = schedd_commands_during(lab, window)
            results["queries_per_minute"][level] = benchlib.count_queries(commands, side.identities) * 60 / window
            results["all_commands_per_minute"][level] = benchlib.count_all(commands, side.identities) * 60 / window
            results.setdefault("commands", {})[level] = {f"{n} from {w}": c for (n, w), c in commands.items()
                                                          if w in side.identities}
        if restart:
            t0 = time.monotonic()
            side.restart()
            results["restart_all_answer"] = wait_all_answer(side, running, t0)
        if tunnel_kill and side.name == "ours":
            results["tunnel_back"] = kill_tunnel(lab, side, running[0])
    finally:
        stop_all(side, running)
        wait_queue_empty(lab)
    return results


# -- P5: recovery ---------------------------------------------------------------

def wait_all_answer(side, servers, t0, timeout=120):
    """Seconds from t0 until every server answered through the proxy."""
    pending = set(servers)
    with ThreadPoolExecutor(min(len(servers), 20)) as pool:
        while pending and time.monotonic() - t0 < timeout:
            asked = list(pending)
            pending = {s for s, ok in zip(asked, pool.map(lambda s: answers(side, s), asked), strict=True) if not ok}
            if pending:
                time.sleep(0.2)
    if pending:
        raise BenchError(f"{side.name}: {len(pending)} servers did not answer within {timeout} s")
    return time.monotonic() - t0


def kill_tunnel(lab, side, server):
    """Kill the server's ssh (as test_hub.py does: the user's ssh whose forward's
    hub end is named after the job); seconds until it answers again."""
    if not answers(side, server):
        raise BenchError(f"{server} does not answer before its tunnel is killed")
    cluster = int(((user_servers(side, server[0]).get(server[1]) or {}).get("state") or {}).get(side.job_key, 0))
    pids = lab.exec("hub", "pgrep", "-u", server[0], "-x", "-f", "--", f"ssh .* -L [^ ]*/job-{cluster}\\.sock:.*",
                    check=False).stdout.split()
    if not cluster or not pids:
        raise BenchError(f"no tunnel process found for {server} (job {cluster})")
    lab.exec("hub", "kill", "-KILL", *pids)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        if answers(side, server, timeout=1):
            return time.monotonic() - t0
        time.sleep(0.05)
    raise BenchError(f"{server} did not answer within 60 s of its tunnel being killed")


# -- P4: 100 light servers at once ----------------------------------------------

def unit_cpu_seconds(lab, unit):
    return benchlib.unit_cpu_seconds(lab.exec("hub", "systemctl", "show", unit, "-p", "CPUUsageNSec").stdout)


def unit_memory(lab, unit):
    """(RSS, PSS) of the unit's processes, each summed, in bytes; PSS None if
    no process's could be read. All processes of the unit's cgroup: the hub,
    its proxy, and the tunnels (as the users, through sudo) and HTCondor
    commands it starts."""
    processes = benchlib.unit_processes(lab.exec("hub", "ps", "-e", "-o", "unit=,pid=,rss=").stdout,
                                        f"{unit}.service")
    if not processes:
        return 0, None
    # check=False: a process that ended since ps listed it makes grep exit 2.
    rollups = [f"/proc/{pid}/smaps_rollup" for pid in sorted(processes)]
    pss = benchlib.pss_kib(lab.exec("hub", "grep", "-H", "^Pss:", *rollups, check=False).stdout)
    return sum(processes.values()) * 1024, None if pss is None else pss * 1024


def p4(lab, side, count):
    require_cpus(lab, count)
    servers = servers_named(baseline.LIGHT_PREFIX, count)
    cpu_before = unit_cpu_seconds(lab, side.unit)
    idle = unit_memory(lab, side.unit)
    peak = list(idle)  # RSS, PSS
    running = (None, None)
    done = threading.Event()

    def sample_memory():
        while not done.wait(1):
            for i, value in enumerate(unit_memory(lab, side.unit)):
                if value is not None:
                    peak[i] = max(peak[i] or 0, value)
    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    try:
        # A server the hub refused (an error answer) is lost like any other.
        refused = {}
        ready = start_all(side, servers, side.light_options, refused)
        # All that got ready are running now: the hub's memory per running server.
        running = unit_memory(lab, side.unit)
    finally:
        done.set()
        sampler.join()
        cpu_after = unit_cpu_seconds(lab, side.unit)
        # What was measured stands even if stopping fails (reported, and the
        # run's clean-up tries again).
        stop_error = None
        try:
            stop_all(side, servers, timeout=600)
            wait_queue_empty(lab, timeout=300)
        except BenchError as e:
            say(f"FAILED stopping P4's servers: {e}")
            stop_error = str(e)
    times = [t for t in ready.values() if t is not None]
    cpu = None if None in (cpu_before, cpu_after) else cpu_after - cpu_before

    def mb(value):
        return None if value is None else value / 2**20
    return {"all_ready": max(times) if len(times) == count else None, "lost": count - len(times),
            "refused": len(refused), "refusals": [f"{s}: {a[0]} {a[1]}" for s, a in list(refused.items())[:3]],
            "stop_error": stop_error,
            "ready_times": sorted(times), "hub_cpu_seconds": cpu,
            "hub_idle_memory_mb": mb(idle[0]), "hub_idle_pss_mb": mb(idle[1]),
            "hub_peak_memory_mb": mb(peak[0]), "hub_peak_pss_mb": mb(peak[1]),
            "hub_running_memory_mb": mb(running[0]), "hub_running_pss_mb": mb(running[1]),
            "servers_running": len(times),
            "hub_rss_per_server_mb": benchlib.per_server_mb(running[0], len(times)),
            "hub_pss_per_server_mb": benchlib.per_server_mb(running[1], len(times))}


# -- the run ------------------------------------------------------------------------

def machine():
    meminfo = Path("/proc/meminfo").read_text()
    total_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1))
    return {"host": platform.node(), "cpus": os.cpu_count(), "memory_gb": round(total_kb / 2**20, 1),
            "kernel": platform.release(), "os": platform.freedesktop_os_release().get("PRETTY_NAME", "")}


def git(*args):
    """git's output in this checkout, or None if it failed. The bench runs as
    root, and git refuses a checkout another user owns unless told it is safe."""
    result = subprocess.run(["git", "-c", f"safe.directory={REPO_DIR}", "-C", str(REPO_DIR), *args],
                            capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def source():
    """The commit measured and whether the tree was clean (benchlib.source_state)."""
    return benchlib.source_state((git("rev-parse", "HEAD") or "").strip(), git("status", "--porcelain"))


def sides(lab, base):
    # P1 runs in both of benchlib.P1_ENVIRONMENTS; the rest on the worker, as the baseline.
    ours_options = {"cpus": 1, "memory_gb": MEMORY_MB / 1024, "disk_gb": 1, "runtime_hours": 1,
                    "environment": benchlib.NO_IMAGE_ENVIRONMENT}
    users = {f"{u}@{UID_DOMAIN}" for u in USERS}
    ours = Side("ours", Hub(lab.labctl("url").stdout.strip(), lab.labctl("hub-token").stdout.strip()),
                f"https://127.0.0.1:{config.HUB_PORT}/", OURS_UNIT, ours_options, benchlib.P1_ENVIRONMENTS,
                {**ours_options, "memory_gb": 0.1, "environment": LIGHT_ENVIRONMENT}, benchlib.OURS_MARKERS,
                frozenset(users | {f"{HUB_ACCOUNT}@{UID_DOMAIN}"}), "cluster",
                lambda: lab.exec("hub", "systemctl", "restart", OURS_UNIT))
    # Stock batchspawner runs every HTCondor command as the user (sudo -E -u).
    theirs = Side("baseline", Hub(base.url, base.token), base.guest_url, baseline.UNIT, {}, (None,), {},
                  benchlib.BASELINE_MARKERS, frozenset(users), "job_id", base.restart)
    return ours, theirs


def measure(errors, what, fn, *args):
    """Run one measurement; a failure is recorded and the run goes on."""
    try:
        return fn(*args)
    except (BenchError, LabError, AssertionError, OSError, ValueError, subprocess.TimeoutExpired) as e:
        say(f"FAILED {what}: {e}")
        errors.append(f"{what}: {e}")
        return None


def run(args):
    lab = Lab()
    # Configures what changed in the lab's Hiera (the bench's slots and light
    # environment), and gives alice and bob the Kerberos tickets both hubs'
    # HTCondor commands need (unchained_htcondor::user_kerberos).
    say("labctl up")
    lab.up()
    raw = {"ours": {}, "baseline": {}}
    events, errors = [], []
    started = time.time()
    # What is measured: the tree as it is when the run starts.
    measured = source()
    seed = secrets.randbelow(1000) if args.seed is None else args.seed
    base = baseline.BaselineHub(lab, USERS, MEMORY_MB, LIGHT_MEMORY_MB, DISK_KB)
    ours, theirs = sides(lab, base)
    by_name = {"ours": ours, "baseline": theirs}
    rounds = 1 if args.smoke else args.rounds
    spawns = 1 if args.smoke else args.spawns
    messages, download = (20, 10**6) if args.smoke else (200, 10**8)
    window = 10 if args.smoke else 60
    levels = [1] if args.smoke else [1, 5, 20]

    # A run killed hard may have left the rule in: remove it before measuring ours.
    baseline.close_leftover_rules(say)
    with contextlib.ExitStack() as stack:
        stack.enter_context(baseline.light_server_on_workers(lab, BENCH_DIR / "light_server.py"))
        say(f"starting the baseline hub ({baseline.UNIT} on hub, {base.url})")
        stack.callback(base.remove)
        base.start()
        stack.callback(lambda: cleanup(ours, theirs))

        def phase(side, fn, *fn_args):
            """Ours only with the firewall closed; the baseline only inside an opening."""
            if side is ours:
                if not baseline.firewall_is_closed():
                    raise LabError("the worker firewall is open while measuring ours")
                return fn(lab, side, *fn_args)
            with baseline.firewall_open_for_baseline(say, events):
                return fn(lab, side, *fn_args)

        def one_round(side, got, r):
            measure(errors, f"P1 {side.name}", phase, side, p1, spawns, r, seed + r, got.setdefault("p1", []))
            if not args.smoke:
                got.setdefault("p1b_5", []).append(measure(errors, f"P1b 5 {side.name}", phase, side, p1b, 5,
                                                           got.setdefault("p1b_stats", {})))
            got.setdefault("p2", []).append(measure(errors, f"P2 {side.name}", phase, side, p2, messages, download))

        def p1b_20(side, got):
            got["p1b_20"] = measure(errors, f"P1b 20 {side.name}", phase, side, p1b, 20,
                                    got.setdefault("p1b_stats", {}))

        def p3_p5(side, got):
            got["p3_p5"] = measure(errors, f"P3/P5 {side.name}", phase, side, p3_and_p5, levels, window,
                                   not args.smoke, True)

        def p4_100(side, got):
            got["p4"] = measure(errors, f"P4 {side.name}", phase, side, p4, 100)
            if (got["p4"] or {}).get("stop_error"):
                errors.append(f"P4 {side.name}, stopping: {got['p4']['stop_error']}")

        # Who goes first alternates, so that neither always meets a warmer
        # pool: from round to round, and between the measures run once.
        once = {"P3/P5": p3_p5} if args.smoke else {"P1b 20": p1b_20, "P3/P5": p3_p5, "P4": p4_100}
        order = benchlib.schedule(seed, rounds, "P1, P2" if args.smoke else "P1, P1b 5, P2", list(once))
        say(f"seed {seed}: who goes first follows from it (--seed {seed} repeats this order)")
        for step in order:
            for name in step["order"]:
                say(f"{step['what']}: {name}")
                if step["round"] is None:
                    once[step["what"]](by_name[name], raw[name])
                else:
                    one_round(by_name[name], raw[name], step["round"] - 1)

    rows = benchlib.make_rows(raw)
    meta = {"command": " ".join(["tests/bench/bench.py", *sys.argv[1:]]), "smoke": args.smoke,
            "rounds": rounds, "spawns": spawns, "seed": seed, "order": order, "source": measured,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "seconds": round(time.time() - started), "machine": machine(),
            "ours_status_interval_p3_p5": benchlib.DEFAULT_STATUS_INTERVAL,
            "errors": errors,
            "ours": {"p1_environments": list(benchlib.P1_ENVIRONMENTS),
                     "environment": f"{benchlib.NO_IMAGE_ENVIRONMENT} (P1b, P2, P3, P5); {LIGHT_ENVIRONMENT} (P4)",
                     "firewall": "closed (checked before each measurement)"},
            "baseline": {"spawner": "batchspawner.CondorSpawner 1.3.0", "unit": baseline.UNIT,
                         "environment": "the notebook environment from CVMFS, on the worker",
                         "firewall": "open while it was measured, closed after"}}
    groups = benchlib.p1_samples(raw)
    raw["breakdown"] = {g: benchlib.median_phases([s["phases"] for s in got]) for g, got in groups.items()}
    raw["job_ad_breakdown"] = {g: benchlib.median_phases([list(s["job_ad"].items()) for s in got])
                               for g, got in groups.items()}
    write_outputs(args.out, rows, raw, meta, events)
    return 1 if errors else 0


def cleanup(*all_sides):
    """Stop whatever servers a failed measurement left running."""
    for side in all_sides:
        if side.started:
            try:
                stop_all(side, sorted(side.started))
            except (BenchError, AssertionError, OSError) as e:
                say(f"could not stop {side.name}'s servers {sorted(side.started)}: {e}")


def write_outputs(out, rows, raw, meta, events):
    out.mkdir(parents=True, exist_ok=True)
    print()
    print(f"{meta['command']} on {meta['machine']['host']}: {benchlib.describe_run(meta)}")
    firsts = "; ".join(f"{o['what']}: {o['order'][0]}" for o in meta["order"])
    print(f"who went first (seed {meta['seed']}): {firsts}")
    print(benchlib.format_table(rows), end="")
    for group, phases in raw["breakdown"].items():
        text = ", ".join(f"{p} {'-' if s is None else f'{s:.2f}'} s" for p, s in phases)
        print(f"spawn breakdown ({group}, medians): {text}")
        ad = ", ".join(f"{p} {'-' if s is None else f'{s:.1f}'} s" for p, s in raw["job_ad_breakdown"][group])
        print(f"  from the job ads: {ad}")
    for name in benchlib.SIDES:
        p4_result = raw[name].get("p4") or {}
        if p4_result.get("refused"):
            print(f"P4 {name}: the hub refused {p4_result['refused']} start(s), e.g. {p4_result['refusals'][0]}")
    print(f"firewall: {'; '.join(e['event'] for e in events) or 'never opened'}")
    for error in meta["errors"]:
        print(f"FAILED: {error}")
    (out / "bench.json").write_text(benchlib.dumps(benchlib.report(rows, raw, meta, events)))
    groups = benchlib.p1_samples(raw)
    samples = {measure: {group: [s[key] for s in got] for group, got in groups.items()}
               for measure, key in (("POST -> ready", "ready"), ("POST -> first kernel result", "first_result"))}
    benchlib.plot_spawn_times(samples, out / "spawn-times.png")
    print(f"written: {out / 'bench.json'}, {out / 'spawn-times.png'}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of P1, P1b (5) and P2, each side in turn")
    parser.add_argument("--spawns", type=int, default=10,
                        help="sequential spawns per side per round (P1; ours makes them in each of its environments)")
    parser.add_argument("--seed", type=int,
                        help="who goes first: ours in the first round for an even seed, then the other way round "
                             "at each step (rounds, then the measures run once); default: a random seed, printed "
                             "and kept in bench.json")
    parser.add_argument("--smoke", action="store_true",
                        help="one spawn each and short windows; no 20- or 100-server tests (for make test)")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "tests" / "artifacts" / "bench",
                        help="where bench.json and spawn-times.png go (default: tests/artifacts/bench)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench: must run as root (labctl and the worker firewall need it)", file=sys.stderr)
        return 1

    # A plain SIGTERM would skip the clean-up (firewall, baseline hub, servers).
    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    try:
        return run(args)
    except (BenchError, LabError, AssertionError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
