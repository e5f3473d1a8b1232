"""The benchmark's pure parts: who goes first, statistics, targets, the
table, the JSON report, schedd commands counted in a SchedLog, spawn phases
from the hubs' journals, the hubs' memory, the baseline hub's configuration
and unit, and the plot.

Nothing here talks to the lab; bench.py and baseline.py do (see README.md).
"""

import json
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass

SCHEMA = "unchained-bench/1"
SIDES = ("ours", "baseline")

# -- who goes first -------------------------------------------------------------


def turns(items, n):
    """`items` in order for an even n, the other way round for an odd one.

    With n counting up from the run's seed, who goes first alternates from
    one step to the next, and a run's order follows from its seed alone
    (bench.py prints it; --seed repeats it)."""
    return tuple(items) if n % 2 == 0 else tuple(reversed(items))


def schedule(seed, rounds, round_measures, once):
    """The run's steps and who goes first in each, as bench.json keeps them:
    each round (its measures `round_measures`, e.g. "P1, P1b 5, P2"), then each
    measure run once; step i's order is turns(SIDES, seed + i), so that it
    alternates from round to round, from one measure run once to the next,
    and between the last round and the first of those."""
    whats = [(f"round {r + 1} ({round_measures})", r + 1) for r in range(rounds)] + [(w, None) for w in once]
    return [{"what": what, "round": r, "order": list(turns(SIDES, seed + i))} for i, (what, r) in enumerate(whats)]


# -- statistics ---------------------------------------------------------------


def percentile(values, p):
    """The p-th percentile (0-100) with linear interpolation between ranks
    (numpy's default), or None for no values."""
    values = sorted(values)
    if not values:
        return None
    rank = (len(values) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return values[low] + (values[high] - values[low]) * (rank - low)


def summarize(values):
    values = list(values)
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "min": min(values, default=None), "max": max(values, default=None)}


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# -- targets and the table ----------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What a measure of ours must reach: `kind` says against what.

    at_most: ours <= limit; ratio_at_most / ratio_at_least: ours / baseline
    <= or >= limit; added_at_most: ours - baseline <= limit.
    """
    kind: str
    limit: float

    def describe(self, unit=""):
        unit = f" {unit}" if unit else ""
        return {"at_most": f"<= {self.limit:g}{unit}",
                "ratio_at_most": f"<= {self.limit:g}x baseline",
                "ratio_at_least": f">= {self.limit:g}x baseline",
                "added_at_most": f"+{self.limit:g}{unit} at most"}[self.kind]

    def met(self, ours, baseline):
        """True or False; None when a value it needs is missing."""
        if ours is None:
            return None
        if self.kind == "at_most":
            return ours <= self.limit
        if baseline is None:
            return None
        if self.kind == "added_at_most":
            return ours - baseline <= self.limit
        r = ratio(ours, baseline)
        if r is None:
            return None
        return r <= self.limit if self.kind == "ratio_at_most" else r >= self.limit

    def missed_by(self, table_row):
        """How far a row of the table misses this target, in the target's own
        terms ("3.20 s over", "0.45x short"), from the row's figures as they
        stand in the report (its ratio too, so a table made again from a
        bench.json says what the run said)."""
        ours, baseline, r = table_row["ours"], table_row["baseline"], table_row["ratio"]
        if self.kind == "at_most":
            return f"{_number(ours - self.limit, table_row['unit'])} over"
        if self.kind == "added_at_most":
            return f"{_number(ours - baseline - self.limit, table_row['unit'])} over"
        if self.kind == "ratio_at_most":
            return f"{r - self.limit:.2f}x over"
        return f"{self.limit - r:.2f}x short"


def ratio(ours, baseline):
    if ours is None or baseline is None or baseline == 0:
        return None
    return ours / baseline


def row(measure, unit, ours, baseline, target=None, note=""):
    """One line of the table, as it goes into the JSON report; `rule` keeps
    the target itself, so that the table can say by how much it was missed."""
    return {"measure": measure, "unit": unit, "ours": ours, "baseline": baseline,
            "ratio": ratio(ours, baseline),
            "target": target.describe(unit) if target else "",
            "rule": {"kind": target.kind, "limit": target.limit} if target else None,
            "met": target.met(ours, baseline) if target else None, "note": note}


# The spawner's default status_interval: P3 measures ours with it, since the
# issue's target (2 queries per minute) is stated for it.
DEFAULT_STATUS_INTERVAL = 30

# The environments ours runs P1 in: the lab's default, in the job image, and
# the same CVMFS environment straight on the worker. The baseline has one way
# to run, the second's (batchspawner-singleuser from CVMFS on the worker): its
# P1 samples stand beside ours in both.
DEFAULT_ENVIRONMENT = "jupyter-2026.11"
NO_IMAGE_ENVIRONMENT = "lab-no-image"
P1_ENVIRONMENTS = (DEFAULT_ENVIRONMENT, NO_IMAGE_ENVIRONMENT)
P1_NOTE = (f"ours in {DEFAULT_ENVIRONMENT} (the default, in the job image) and {NO_IMAGE_ENVIRONMENT} (the same "
           "on the worker); the baseline, in both: the same CVMFS environment on the worker")


def p1_samples(raw):
    """P1's spawns by who made them: ours in each environment, then the baseline."""
    ours = raw.get("ours", {}).get("p1", [])
    groups = {f"ours, {env}": [s for s in ours if s.get("environment") == env] for env in P1_ENVIRONMENTS}
    groups["baseline"] = list(raw.get("baseline", {}).get("p1", []))
    return groups


def make_rows(raw):
    """The table's rows from a run's raw samples (bench.py), with the issue's
    targets (#17)."""
    def both(get):
        return tuple(get(raw[name]) for name in SIDES)

    def spawn_pct(environment, key, p):
        groups = p1_samples(raw)
        samples = groups[f"ours, {environment}"], groups["baseline"]
        return tuple(percentile([s[key] for s in got], p) for got in samples)

    def p2_median(get):
        return lambda got: median_or_none([get(x) for x in got.get("p2", []) if x])

    def p1b_stat(key, combine):
        def get(got):
            values = (got.get("p1b_stats") or {}).get(key)
            return combine(values) if values else None
        return get

    def p3(level):
        return lambda got: ((got.get("p3_p5") or {}).get("queries_per_minute") or {}).get(level)

    def p5(key):
        return lambda got: (got.get("p3_p5") or {}).get(key)

    def p4(key):
        return lambda got: (got.get("p4") or {}).get(key)

    rows = []
    for environment in P1_ENVIRONMENTS:
        default = environment == DEFAULT_ENVIRONMENT
        for what, key in (("POST -> ready", "ready"), ("POST -> first kernel result", "first_result")):
            for p, limit in ((50, 2.5), (95, 3.5)):
                target = Target("at_most", limit) if default and key == "ready" else None
                note = P1_NOTE if not rows else ""
                rows.append(row(f"P1 {environment}: {what}, p{p}", "s", *spawn_pct(environment, key, p), target,
                                note=note))
    rows += [
        row("P1b 5 at once: all ready", "s", *both(lambda g: median_or_none(g.get("p1b_5", [])))),
        row("P1b 20 at once: all ready", "s", *both(lambda g: g.get("p1b_20")), Target("ratio_at_most", 0.7)),
        row("P1b 5 at once: lost, all rounds", "", *both(p1b_stat("lost_5", sum))),
        row("P1b 20 at once: lost", "", *both(p1b_stat("lost_20", sum))),
        row("P1b machine CPU busy while starting", "%",
            *both(p1b_stat("cpu_busy", lambda busy: median_or_none([100 * b for b in busy if b is not None])))),
        row("P2 kernel execute latency, p50", "ms", *both(p2_median(lambda x: percentile(x["latency_ms"], 50))),
            Target("added_at_most", 0.5), note="baseline = the direct path (proxy straight to the worker, no tunnel)"),
        row("P2 100 MB download", "MB/s", *both(p2_median(lambda x: x["download_mb_per_s"])),
            Target("ratio_at_least", 0.8)),
    ]
    for level in (1, 5, 20):
        note = (f"ours at the default status_interval, {DEFAULT_STATUS_INTERVAL} s (the lab's hub: 10 s)"
                if level == 1 else "")
        rows.append(row(f"P3 schedd queries/min, {level} server(s)", "/min", *both(p3(level)),
                        Target("at_most", 2), note=note))
    rows += [
        row("P4 100 light servers: all ready", "s", *both(p4("all_ready")), Target("at_most", 60)),
        row("P4 servers lost", "", *both(p4("lost")), Target("at_most", 0)),
        row("P4 hub CPU time", "s", *both(p4("hub_cpu_seconds")), Target("ratio_at_most", 1.5)),
        row("P4 hub peak memory (RSS summed)", "MB", *both(p4("hub_peak_memory_mb"))),
        row("P4 hub peak memory (PSS summed)", "MB", *both(p4("hub_peak_pss_mb"))),
        row("P4 hub PSS per running server", "MB", *both(p4("hub_pss_per_server_mb")), Target("at_most", 8),
            note="the hub unit's PSS with all servers running, divided by their number"),
        row("P4 hub RSS per running server", "MB", *both(p4("hub_rss_per_server_mb"))),
        row("P5 killed tunnel -> answers", "s", *both(p5("tunnel_back")), Target("at_most", 3),
            note="the baseline has no tunnel"),
        row("P5 hub restart -> 20 servers answer", "s", *both(p5("restart_all_answer")), Target("at_most", 5)),
    ]
    return rows


def _number(value, unit=""):
    if value is None:
        return "-"
    if isinstance(value, int):
        text = str(value)  # counts: servers lost
    else:
        text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}"
    return f"{text} {unit}".strip()


def _met(table_row):
    """yes, NO with by how much (when the row keeps its target), or -."""
    if table_row["met"] is None:
        return "-"
    if table_row["met"]:
        return "yes"
    rule = table_row.get("rule")
    return f"NO, {Target(**rule).missed_by(table_row)}" if rule else "NO"


def format_table(rows):
    """The table printed on stdout and in the README: measure, ours, baseline,
    ratio, target, met? (a missed target with by how much), then the notes."""
    header = ("measure", "ours", "baseline", "ratio", "target", "met?")
    lines = [(r["measure"], _number(r["ours"], r["unit"]), _number(r["baseline"], r["unit"]),
              "-" if r["ratio"] is None else f"{r['ratio']:.2f}x", r["target"] or "-", _met(r)) for r in rows]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=True)]
    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
           "-+-".join("-" * w for w in widths)]
    out += [" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    notes = [f"  {r['measure']}: {r['note']}" for r in rows if r["note"]]
    return "\n".join(out + (["notes:"] + notes if notes else [])) + "\n"


def report(rows, raw, meta, events):
    """The JSON file: the table's rows, every raw sample, how the run was made
    (command, machine, settings) and what it did to the lab (firewall)."""
    return {"schema": SCHEMA, "meta": meta, "rows": rows, "events": events, "raw": raw}


def describe_source(source):
    """The commit a run measured and whether its tree was clean, in words."""
    if not (source or {}).get("commit"):
        return "commit not recorded"
    state = {True: "clean tree", False: "with uncommitted changes",
             None: "tree state not recorded"}[source.get("clean")]
    return f"commit {source['commit'][:7]}, {state}"


def describe_run(meta):
    """How a run was made, in one line: rounds, seed, commit, machine, date, length."""
    def count(n, what):
        return f"{n} {what}" + ("" if n == 1 else "s")
    parts = []
    if meta.get("rounds") is not None:
        parts.append(f"{count(meta['rounds'], 'round')} of {count(meta['spawns'], 'spawn')} per hub"
                     + (f", seed {meta['seed']}" if meta.get("seed") is not None else ""))
    parts.append(describe_source(meta.get("source")))
    m = meta.get("machine") or {}
    parts.append(f"{m.get('cpus')} CPUs, {m.get('memory_gb'):g} GB, {m.get('os')}")
    parts.append(f"{meta['started'][:10]}, {round(meta['seconds'] / 60)} minutes")
    return "; ".join(parts)


def dumps(data):
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


# -- schedd commands in the SchedLog (SCHEDD_DEBUG = D_COMMAND) -----------------

# "11/27/26 16:03:09 Calling HandleReq <command_query_job_ads> (0) for command 516
#  (QUERY_JOB_ADS) from jupyterhub@lab.test <10.77.0.11:33779>"
SCHEDD_COMMAND = re.compile(r"Calling HandleReq <[^>]*> \(\d+\) for command \d+ \((?P<name>[A-Z_]+)\) "
                            r"from (?P<who>\S+) <")
# The commands that read job ads: condor_q and its Python-binding equivalents.
QUERY_COMMANDS = frozenset({"QUERY_JOB_ADS", "QUERY_JOB_ADS_WITH_AUTH"})


def schedd_commands(log_text):
    """Counter of (command name, authenticated identity) over every command the
    schedd handled in this piece of its log. With D_COMMAND the schedd logs each
    command it serves, whoever sends it, so nothing is missed."""
    return Counter((m["name"], m["who"]) for m in SCHEDD_COMMAND.finditer(log_text))


def count_queries(commands, identities):
    """Job queries sent by any of `identities` (e.g. {"jupyterhub@lab.test"})."""
    return sum(n for (name, who), n in commands.items() if name in QUERY_COMMANDS and who in identities)


def count_all(commands, identities):
    return sum(n for (_, who), n in commands.items() if who in identities)


def log_reads(before, current, rotated):
    """Which (file, byte offset) pieces hold what a log gained in a window.

    `before` and `current` are (inode, size) of the log at the window's start
    and end; `rotated` is (inode, size) of LOG.old at the end, or None. HTCondor
    rotates by renaming the log to .old, so a changed inode means: the rest of
    the old file, then all of the new one. Two rotations in one window would
    lose lines: refuse rather than count too few.
    """
    if current[0] == before[0]:
        if current[1] < before[1]:
            raise ValueError("the log shrank without rotating; cannot count what it gained")
        return [("log", before[1])]
    if rotated is None or rotated[0] != before[0]:
        raise ValueError("the log rotated more than once in the window; count again with a shorter window")
    return [("old", before[1]), ("log", 0)]


# -- spawn phases from the hubs' journals --------------------------------------

# Log lines that mark where a spawn is, in order. Ours: the spawner's progress
# messages (spawner.py, logged at INFO) and JupyterHub's own lines.
OURS_MARKERS = (
    ("submit", r"Submitted job \d+\.0"),
    ("queue, negotiation, job start", r"Job \d+\.0 is running on"),
    ("server start, handshake, tunnel", r"Connected; waiting for JupyterLab"),
    ("server answers", r"took [\d.]+ seconds to start"),
    ("proxy registration", r"Adding user \S+ to proxy"),
)
# Stock batchspawner logs less at INFO: the job's start and its server's port
# are one step (batchspawner-singleuser posts the port before the server runs).
BASELINE_MARKERS = (
    ("submit", r"Job submitted\. output:"),
    ("queue, negotiation, job start, port posted", r"Notebook server job \d+ started at"),
    ("server answers", r"took [\d.]+ seconds to start"),
    ("proxy registration", r"Adding user \S+ to proxy"),
)
READY_SEEN = "ready seen by the client"


def journal_entries(json_lines):
    """(epoch seconds, message) of each line of `journalctl -o json`, in order.
    Messages journald stored as bytes (not UTF-8) are skipped."""
    entries = []
    for line in json_lines.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        message = record.get("MESSAGE")
        if isinstance(message, str) and "__REALTIME_TIMESTAMP" in record:
            entries.append((int(record["__REALTIME_TIMESTAMP"]) / 1e6, message))
    return entries


def spawn_phases(t_post, t_ready, entries, markers):
    """Seconds spent in each phase of one spawn: from the POST (epoch t_post)
    to each marker's first line after the previous one, then to t_ready (when
    the client saw the server ready). A marker not found is None, and its time
    counts in the next phase found."""
    phases = []
    previous = t_post
    position = 0
    for phase, pattern in markers:
        found = None
        for i in range(position, len(entries)):
            when, message = entries[i]
            if when >= previous and re.search(pattern, message):
                found, position = when, i + 1
                break
        phases.append((phase, None if found is None else found - previous))
        previous = found if found is not None else previous
    phases.append((READY_SEEN, t_ready - previous))
    return phases


def job_ad_phases(ad):
    """Negotiation and job start from the job's ad (whole seconds only: the
    schedd keeps these times in seconds, so only means over many spawns mean
    something)."""
    def value(name):
        v = ad.get(name)
        return int(v) if isinstance(v, (int, float)) or (isinstance(v, str) and v.isdigit()) else None
    queued, claimed, executing = value("QDate"), value("JobCurrentStartDate"), value("JobCurrentStartExecutingDate")
    return {"negotiation and claim (job ad, 1 s steps)": None if None in (queued, claimed) else claimed - queued,
            "starter to job executing (job ad, 1 s steps)": None if None in (claimed, executing)
            else executing - claimed}


def median_phases(spawns):
    """Per phase, the median over spawns (each a list of (phase, seconds))."""
    order, values = [], {}
    for phases in spawns:
        for phase, seconds in phases:
            if phase not in values:
                order.append(phase)
                values[phase] = []
            values[phase].append(seconds)
    return [(phase, median_or_none(values[phase])) for phase in order]


# -- probing the lab: parsers of small command outputs ------------------------


def cpu_busy(stat_before, stat_after):
    """Fraction of this machine's CPU time spent busy between two readings of
    /proc/stat (its first line; the lab's hosts share this kernel)."""
    def times(stat):
        fields = [int(x) for x in stat.splitlines()[0].split()[1:9]]
        return sum(fields), fields[3] + fields[4]  # all, idle + iowait
    total = times(stat_after)[0] - times(stat_before)[0]
    idle = times(stat_after)[1] - times(stat_before)[1]
    return None if total <= 0 else 1 - idle / total


def unit_cpu_seconds(systemctl_show):
    """CPU seconds from `systemctl show -p CPUUsageNSec`; None where systemd
    has no CPU accounting ("[not set]")."""
    value = systemctl_show.strip().partition("=")[2]
    return int(value) / 1e9 if value.isdigit() else None


def unit_processes(ps_output, unit):
    """{pid: resident KiB} of a unit's processes, from `ps -e -o unit=,pid=,rss=`:
    every process in the unit's cgroup, whoever it runs as (our hub's tunnels
    run as the users, through sudo, and stay in the hub's unit)."""
    processes = {}
    for line in ps_output.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == unit and fields[1].isdigit() and fields[2].isdigit():
            processes[int(fields[1])] = int(fields[2])
    return processes


def pss_kib(grep_output):
    """Proportional set size summed, KiB, from `grep -H ^Pss:
    /proc/PID/smaps_rollup ...`; None if no process's could be read. PSS
    shares each page among the processes that map it, so the sum counts a
    shared page once (RSS summed counts it once per process); a process that
    ended between `ps` and `grep` is missing from both."""
    values = [int(m[1]) for m in re.finditer(r"^/proc/\d+/smaps_rollup:Pss:\s+(\d+) kB$", grep_output, re.M)]
    return sum(values) if values else None


def per_server_mb(total_bytes, servers):
    """A unit's memory with `servers` running, per server, in MB (None if unknown or none ran)."""
    return None if total_bytes is None or not servers else total_bytes / 2**20 / servers


def source_state(commit, porcelain):
    """What a run measured: the commit (`git rev-parse HEAD`, "" if git could
    not say) and whether the tree was clean (`git status --porcelain` empty;
    None if git could not say), with the changes if it was not."""
    if not commit:
        return {"commit": None, "clean": None, "changes": []}
    changes = [line for line in porcelain.splitlines() if line.strip()] if porcelain is not None else None
    return {"commit": commit, "clean": None if changes is None else not changes, "changes": changes or []}


def pool_cpus(condor_status_output):
    """The pool's CPUs from `condor_status -af Machine TotalCpus`: one line per
    slot, every slot of a machine naming the machine's total."""
    machines = {}
    for line in condor_status_output.splitlines():
        fields = line.split()
        # HTCondor prints TotalCpus as a real ("64.0").
        if len(fields) == 2 and re.fullmatch(r"[0-9]+(\.0+)?", fields[1]):
            machines[fields[0]] = int(float(fields[1]))
    return sum(machines.values())


# -- the baseline hub: stock batchspawner 1.3.0 CondorSpawner ------------------


@dataclass(frozen=True)
class BaselineSettings:
    token: str                # the bench's admin service token for this hub
    state_dir: str            # database and cookie secret
    proxy_port: int           # HTTPS, as users reach it
    proxy_api_port: int       # configurable-http-proxy's API, loopback only
    hub_port: int             # the hub's API, which jobs reach (batchspawner-singleuser)
    hub_connect_url: str      # how workers reach the hub's API
    ssl_cert: str
    ssl_key: str
    singleuser_cmd: str       # batchspawner-singleuser on the workers
    notebook_cmd: str         # jupyterhub-singleuser on the workers
    light_cmd: str            # the light server (P4), a Python script on the workers
    light_prefix: str         # servers whose names start with this run light_cmd
    users: tuple
    memory_mb: int            # what ours asks for: the same requests for both
    light_memory_mb: int
    disk_kb: int
    job_marker: str           # a job attribute the bench removes leftover jobs by


def baseline_config(s):
    """jupyterhub_config.py of the baseline hub. Every value is written as a
    JSON literal (valid Python for strings, numbers, lists); no text is pasted
    into code."""
    q = json.dumps
    # ShouldTransferFiles: the template's `ShouldTransferFiles = False` only
    # matches workers with the hub's FILESYSTEM_DOMAIN; the lab's workers each
    # have their own (HTCondor's default, the host name), as most sites' do.
    # Spelled as the template spells it, so that condor_submit takes this one
    # (with `should_transfer_files` it kept False, measured with 23.9).
    options = "\n".join([f"RequestDisk = {s.disk_kb}", "ShouldTransferFiles = IF_NEEDED",
                         "WhenToTransferOutput = ON_EXIT", f'+{s.job_marker} = "baseline"'])
    return f'''# The benchmark's baseline hub: stock batchspawner 1.3.0 CondorSpawner
# (tests/bench/README.md). Written by tests/bench; removed when the bench ends.

# Our package is installed in this venv too, and JupyterHub imports every
# spawner entry point at start; importing unchained_hub removes batchspawner's
# report API from JupyterHub's handlers. Put the stock handler back, unchanged,
# so this hub is what a batchspawner site runs.
from batchspawner.api import BatchSpawnerAPIHandler
from jupyterhub.apihandlers import default_handlers

if not any(route == r"/api/batchspawner" for route, *_ in default_handlers):
    default_handlers.append((r"/api/batchspawner", BatchSpawnerAPIHandler))

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

c.JupyterHub.spawner_class = "batchspawner.CondorSpawner"
c.JupyterHub.bind_url = {q(f"https://:{s.proxy_port}")}
c.JupyterHub.ssl_cert = {q(s.ssl_cert)}
c.JupyterHub.ssl_key = {q(s.ssl_key)}
c.JupyterHub.hub_bind_url = {q(f"http://0.0.0.0:{s.hub_port}")}
c.JupyterHub.hub_connect_url = {q(s.hub_connect_url)}
c.ConfigurableHTTPProxy.api_url = {q(f"http://127.0.0.1:{s.proxy_api_port}")}
c.JupyterHub.db_url = {q(f"sqlite:///{s.state_dir}/jupyterhub.sqlite")}
c.JupyterHub.cookie_secret_file = {q(f"{s.state_dir}/jupyterhub_cookie_secret")}
c.JupyterHub.pid_file = {q(f"{s.state_dir}/jupyterhub.pid")}
# As ours: servers are jobs that outlive a hub restart (P5), several per user.
c.JupyterHub.cleanup_servers = False
c.JupyterHub.allow_named_servers = True
c.Authenticator.allowed_users = set({q(list(s.users))})
c.JupyterHub.services = [{{"name": "bench-admin", "api_token": {q(s.token)}}}]
c.JupyterHub.load_roles = [{{"name": "admin", "services": ["bench-admin"]}}]

# The same requests as ours (1 CPU, the same memory and disk); the rest is
# batchspawner's default template, exec_prefix (sudo -E -u USER) and polling.
c.CondorSpawner.req_nprocs = "1"
c.CondorSpawner.req_memory = {q(str(s.memory_mb))}
c.CondorSpawner.req_options = {q(options)}
c.CondorSpawner.batchspawner_singleuser_cmd = {q(s.singleuser_cmd)}
c.Spawner.cmd = [{q(s.notebook_cmd)}]


def light_servers(spawner):
    """P4 starts servers named {s.light_prefix}*: they run the light command."""
    if spawner.name.startswith({q(s.light_prefix)}):
        spawner.cmd = [{q(s.light_cmd)}]
        spawner.req_memory = {q(str(s.light_memory_mb))}


c.Spawner.pre_spawn_hook = light_servers
'''


def baseline_unit(config_path, venv):
    """A runtime systemd unit (under /run, gone at reboot) for the baseline hub.
    As root: batchspawner's default exec_prefix is `sudo -E -u USER`, and the
    lab's sudo rule for our hub's account allows only our spawner's commands.
    Working directory /: condor_submit as the user needs one it can read."""
    return f"""[Unit]
Description=Unchained bench: baseline JupyterHub with stock batchspawner (tests/bench)
After=network-online.target condor.service

[Service]
WorkingDirectory=/
Environment=PATH={venv}/bin:/usr/local/bin:/usr/bin:/bin
ExecStart={venv}/bin/jupyterhub -f {config_path}
KillMode=control-group
"""


# -- the plot -----------------------------------------------------------------


def plot_spawn_times(samples, path):
    """A PNG of spawn-time distributions: one panel per measure, a box and
    every sample for each group side by side. `samples` is {measure: {group:
    [s, ...]}}, e.g. groups "ours, ENVIRONMENT" and "baseline" (p1_samples)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measures = list(samples)
    fig, axes = plt.subplots(1, len(measures), figsize=(5 * len(measures), 4), squeeze=False)
    for ax, measure in zip(axes[0], measures, strict=True):
        labels = [who for who, values in samples[measure].items() if values]
        data = [samples[measure][who] for who in labels]
        if data:
            ax.boxplot(data, showfliers=False)
            for i, values in enumerate(data, start=1):
                # Spread the points a little sideways so equal times stay visible.
                xs = [i + 0.08 * ((k % 5) - 2) for k in range(len(values))]
                ax.plot(xs, values, "o", alpha=0.5, markersize=4)
            # "ours, lab-no-image" on two lines, so that three groups fit.
            names = ["\n".join(who.split(", ")) + f"\n(n={len(v)})" for who, v in zip(labels, data, strict=True)]
            ax.set_xticks(range(1, len(labels) + 1), names)
        ax.set_title(measure)
        ax.set_ylabel("seconds")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
