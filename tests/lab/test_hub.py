"""The spawner on the lab: a real JupyterHub on `hub` starting notebook servers
as HTCondor jobs on the firewalled execute hosts, driven through its REST API.

Each test names the behaviour of the spawner issue it proves.
"""

import json
import re
import time

import pytest
from hubclient import SMALL, Hub, job_of, jobs_of, left_queue, spawn, start_in_background
from labtest import wait_for
from secretscan import Sampler, files_holding, journal_holds

EXECUTE_HOSTS = {"ex1.lab.test", "ex2.lab.test"}


def remote_host(lab, cluster):
    out = lab.exec("hub", "condor_q", str(cluster), "-af", "RemoteHost").stdout.strip()
    return out.split("@")[-1]


def sandbox(lab, host, cluster, *path):
    """A path in the job's scratch directory on its worker (found by the job's ad)."""
    out = lab.exec(host.split(".")[0], "sh", "-c",
                   f"grep -l '^ClusterId = {int(cluster)}$' /var/lib/condor/execute/dir_*/.job.ad").stdout
    return "/".join([out.strip().rsplit("/", 1)[0], *path])


# -- 1, 4, 11, 12: spawn, reach, files, stop ----------------------------------

def test_spawn_reach_files_and_stop(lab, hub, servers):
    """A server for alice on a worker with no inbound connection, reached through
    the proxy and the tunnel; a file made through the contents API is in the job's
    sandbox, and back in alice's home after stop. Stop is idempotent."""
    lab.exec("hub", "rm", "-rf", "/home/alice/jupyter/made-in-job.txt")
    seconds = spawn(hub, servers, "alice")
    cluster = job_of(hub, "alice")["cluster"]
    host = remote_host(lab, cluster)
    assert host in EXECUTE_HOSTS

    status, body = hub.user_api("alice", "api/status")
    assert status == 200 and "started" in body, (status, body)

    status, body = hub.user_api("alice", "api/contents/made-in-job.txt", method="PUT",
                                body={"type": "file", "format": "text", "content": "hello from the job\n"})
    assert status in (200, 201), (status, body)
    path = sandbox(lab, host, cluster, "jupyter", "made-in-job.txt")
    assert lab.exec(host.split(".")[0], "cat", path).stdout == "hello from the job\n"

    hub.stop("alice")
    assert cluster not in jobs_of(lab, "alice")
    assert lab.exec("hub", "cat", "/home/alice/jupyter/made-in-job.txt").stdout == "hello from the job\n"
    # A second stop finds nothing to do and fails nothing.
    status, _ = hub.request("DELETE", Hub.server_path("alice"))
    assert status in (202, 204, 400), status
    print(f"spawn: POST to ready {seconds:.2f} s")


def test_an_environment_without_a_module_runs_from_its_own_path(lab, hub, servers):
    """The lab's second environment is a venv on the workers, named by path with
    no Lmod module (as for an environment on a shared file system)."""
    spawn(hub, servers, "bob", "venv", {**SMALL, "environment": "lab-venv"})
    cluster = job_of(hub, "bob", "venv")["cluster"]
    assert lab.job_attr(f"{cluster}.0", "UnchainedEnvironment") == "lab-venv"
    status, body = hub.user_api("bob", "api/status", server="venv")
    assert status == 200, (status, body)
    host = remote_host(lab, cluster).split(".")[0]
    pids = lab.exec(host, "pgrep", "-u", "bob", "-f", "jupyterhub-singleuser").stdout.split()
    assert pids
    for pid in pids:
        cmdline = lab.exec(host, "cat", f"/proc/{pid}/cmdline").stdout.replace("\0", " ")
        assert "/opt/unchained/singleuser/bin/" in cmdline and "/cvmfs/" not in cmdline, cmdline


def test_hub_runs_unprivileged_with_exact_sudo_rule(lab):
    """1: the hub is not root; sudo lets it run only the spawner's commands, only
    as members of jupyterhub-users."""
    user = lab.exec("hub", "ps", "-o", "user=", "-C", "jupyterhub").stdout.split()
    assert user and set(user) == {"jupyterhub"}, user
    rules = lab.exec("hub", "sudo", "-l", "-U", "jupyterhub").stdout
    assert "(%jupyterhub-users) NOPASSWD" in rules
    for argv in (["-u", "root", "/usr/bin/condor_submit", "-terse"],
                 ["-u", "carol", "/usr/bin/condor_submit", "-terse"],
                 ["-u", "alice", "/usr/bin/condor_rm", "-all"],
                 ["-u", "alice", "/usr/bin/condor_ssh_to_job", "1.0", "/bin/sh"],
                 ["-u", "alice", "/bin/sh"]):
        result = lab.exec("hub", "runuser", "-u", "jupyterhub", "--", "sudo", "-n", "-l", *argv, check=False)
        assert result.returncode != 0, f"sudo allowed {argv}"
    allowed = lab.exec("hub", "runuser", "-u", "jupyterhub", "--", "sudo", "-n", "-l", "-u", "alice",
                       "/usr/bin/condor_rm", "42", check=False)
    assert allowed.returncode == 0, allowed.stderr


def test_user_outside_the_hub_group_gets_a_clear_refusal(lab, hub, servers):
    """carol may log in, but sudo lets the hub act only for jupyterhub-users."""
    servers.append(("carol", ""))
    status, body = hub.start("carol", "", SMALL)
    assert status == 403, (status, body)
    assert "may not start jobs for carol" in body["message"] and "site admin" in body["message"]
    assert jobs_of(lab, "carol") == []


# -- 2: the resource form -------------------------------------------------------

@pytest.mark.parametrize("options, words", [
    ({"memory_gb": 500}, "Memory: 500 GB is more than this site's maximum of 2 GB."),
    ({"cpus": 0}, "CPU cores: 0 is less than this site's minimum of 1."),
    ({"cpus": "1\nrequest_cpus = 64"}, "CPU cores:"),
    ({"memory_gb": "lots"}, "Memory: 'lots' is not a number"),
    ({"environment": "/bin/sh"}, "Environment: choose one of jupyter-2026.11, lab-no-image, lab-missing-image, "
                                 "lab-venv, lab-unpublished, lab-missing"),
    ({"options": "+Owner = \"root\""}, "unknown option 'options'"),
])
def test_bad_options_refused_with_400_and_no_job(lab, hub, servers, options, words):
    before = jobs_of(lab, "alice")
    servers.append(("alice", ""))
    status, body = hub.start("alice", "", options)
    assert status == 400, (status, body)
    assert words in body["message"], body
    assert jobs_of(lab, "alice") == before


def test_job_requests_exactly_what_was_chosen(lab, hub, servers):
    spawn(hub, servers, "alice", "exact", {"cpus": 2, "memory_gb": 0.3, "disk_gb": 2, "runtime_hours": 0.5})
    cluster = job_of(hub, "alice", "exact")["cluster"]
    out = lab.exec("hub", "condor_q", str(cluster), "-af", "RequestCpus", "RequestMemory", "RequestDisk",
                   "UnchainedRuntime").stdout.split()
    assert out == ["2", "307", str(2 * 1024 * 1024), "1800"]


def test_the_sites_job_additions_reach_the_job_ad(lab, hub, servers):
    """UnchainedSpawner.job_additions of the lab's hub (hiera/nodes/hub.lab.test.yaml):
    alice is charged to her Unix group's accounting group, bob to his own; both
    jobs carry the site's requirement and attribute."""
    expected = {"alice": "group_lab.alice", "bob": "group_lab.bob.bob"}
    for user in expected:
        spawn(hub, servers, user, "site", SMALL)
    for user, group in expected.items():
        cluster = job_of(hub, user, "site")["cluster"]
        ad = {attr: lab.job_attr(str(cluster), attr) for attr in ("AccountingGroup", "AcctGroupUser", "SiteProject")}
        # Unevaluated (-af:r): evaluated alone, an expression about the machine is undefined.
        ad["Requirements"] = lab.exec("hub", "condor_q", str(cluster), "-af:r", "Requirements").stdout
        assert ad["AccountingGroup"] == group and ad["AcctGroupUser"] == user, ad
        assert ad["SiteProject"] == "lab-notebooks", ad
        assert 'TARGET.OpSys == "LINUX"' in ad["Requirements"], ad


def test_jupyterhubs_own_server_settings_reach_the_server(lab, hub, servers):
    """c.Spawner.args follow the server's command; default_url and environment
    reach it through the tunnel, and so the kernels it starts."""
    spawn(hub, servers, "alice", "settings", SMALL)
    worker = remote_host(lab, job_of(hub, "alice", "settings")["cluster"]).split(".")[0]
    commands = lab.exec(worker, "pgrep", "-a", "-u", "alice", "-f", "jupyterhub-singleuser").stdout
    assert "--ServerApp.iopub_msg_rate_limit=5000" in commands, commands
    before = set(lab.exec(worker, "pgrep", "-u", "alice", "-f", "ipykernel_launcher", check=False).stdout.split())
    status, kernel = hub.user_api("alice", "api/kernels", "settings", method="POST", body={"name": "python3"})
    assert status == 201, kernel
    pids = wait_for(lambda: set(lab.exec(worker, "pgrep", "-u", "alice", "-f", "ipykernel_launcher",
                                         check=False).stdout.split()) - before, 30, "the kernel to start")
    environ = lab.exec(worker, "cat", f"/proc/{pids.pop()}/environ").stdout.split("\0")
    env = dict(v.split("=", 1) for v in environ if "=" in v)
    assert env.get("UNCHAINED_SITE_NOTE") == "lab" and env.get("JUPYTERHUB_DEFAULT_URL") == "/lab", env
    hub.user_api("alice", f"api/kernels/{kernel['id']}", "settings", method="DELETE")


# -- 3: no secret in the ClassAd ---------------------------------------------

def test_no_token_in_job_ad_command_lines_or_logs(lab, hub, servers):
    """The server's hub API token, looked for from before the spawn until after
    the stop, while the server runs and not only afterwards.

    What "nowhere" means, where:
    - command lines: in no process's, on the hub or either worker, at any sample
      (`secretscan.Sampler` reads every process's /proc/PID/cmdline and
      /proc/PID/environ about 90 times a second);
    - environments: in none on the hub. On the job's worker only in alice's
      processes below the job's launcher (`unchained-singleuser --files-dir ...`):
      the server, its kernels and terminals, which use it to reach the hub. It
      reaches the server on standard input, through the session (`attach`, see
      singleuser.py), so the launcher, `attach`, sshd, the starter and every
      process outside the job's own tree never have it in their environment;
    - this job's ClassAd, read as another user (bob): `condor_q CLUSTER -l`
      while it runs, `condor_history CLUSTER -l` after;
    - files: none under `secretscan.PLACES` on the hub and the worker holds it,
      while the server runs (/tmp, /run, the job's sandbox...) and after, but
      for the job's own files that only alice may read, in its sandbox that only
      alice may enter: jupyter_server's runtime file (jpserver-PID.json and
      its -open.html, in the sandbox's .local/share/jupyter/runtime), through
      which `jupyter server list` in the job finds the server;
    - journald, on the hub and the worker.
    """
    uid = int(lab.exec("hub", "id", "-u", "alice").stdout)
    samplers = [Sampler(host) for host in ("hub", "ex1", "ex2")]
    try:
        spawn(hub, servers, "alice", "secret")
        cluster = job_of(hub, "alice", "secret")["cluster"]
        worker = remote_host(lab, cluster).split(".")[0]
        # The token, from the environment of a kernel the server starts.
        status, _ = hub.user_api("alice", "api/kernels", "secret", method="POST", body={"name": "python3"})
        assert status == 201
        tokens = set()
        pids = wait_for(lambda: lab.exec(worker, "pgrep", "-u", "alice", "-f", "ipykernel_launcher",
                                         check=False).stdout.split(), 30, "the kernel to start")
        for pid in pids:
            environ = lab.exec(worker, "cat", f"/proc/{pid}/environ", check=False).stdout.split("\0")
            kernel_env = dict(v.split("=", 1) for v in environ if "=" in v)
            tokens.add(kernel_env.get("JUPYTERHUB_API_TOKEN"))
            # The job's request, which jupyter-resource-usage shows as the limit.
            assert kernel_env.get("MEM_LIMIT") == str(512 * 1024 * 1024), kernel_env.get("MEM_LIMIT")
        tokens.discard(None)
        assert len(tokens) == 1, tokens
        token = tokens.pop()
        assert len(token) >= 32

        for host in ("hub", worker):
            found = files_holding(lab, host, token)
            if host == worker:
                box = sandbox(lab, worker, cluster)
                found = [path for path in found if not private_to(lab, worker, uid, box, path)]
            assert found == [], f"token in files on {host} while the server runs"
        ad = lab.exec("hub", "condor_q", str(cluster), "-l", user="bob").stdout
        assert f"ClusterId = {cluster}\n" in ad and token not in ad
        assert "GetEnv" not in ad or "GetEnv = false" in ad.replace("False", "false")
        hub.stop("alice", "secret")
        history = lab.exec("hub", "condor_history", str(cluster), "-l", user="bob").stdout
        assert f"ClusterId = {cluster}\n" in history and token not in history
        reports = {sampler.host: sampler.finish(token) for sampler in samplers}
    finally:
        for sampler in samplers:
            sampler.stop()


    def in_the_job(host, hit):
        return host == worker and hit["where"] == "environ" and hit["uid"] == uid and any(
            "--files-dir" in a["argv"] and any(w.endswith("/unchained-singleuser") for w in a["argv"])
            for a in hit["ancestors"])
    for host, report in reports.items():
        print(f"{host}: {report['samples']} samples of {report['processes']} processes in {report['seconds']} s")
        wrong = [hit for hit in report["hits"] if not in_the_job(host, hit)]
        assert wrong == [], f"the token on {host} outside the job's own processes: {wrong}"
    # Where it must be, the sampler saw it: in the kernel's environment.
    assert any("ipykernel_launcher" in " ".join(hit["argv"]) for hit in reports[worker]["hits"]), reports[worker]
    for host in ("hub", worker):
        assert files_holding(lab, host, token) == [], f"token in files on {host} after the stop"
        assert not journal_holds(lab, host, token), f"token in the journal of {host}"


def test_a_shell_start_up_that_prints_too_much_fails_the_spawn_and_says_why(lab, hub, servers):
    """alice's ~/.bashrc on the workers prints 1 MB, in the job's side of every
    condor_ssh_to_job session: the hub reads 64 KiB of it (tunnel.MAX_NOISE),
    the spawn fails saying what to change, and no job is left."""
    saved = "/home/alice/.bashrc.unchained-test"
    before = set(jobs_of(lab, "alice"))
    noisy = "head -c 1000000 /dev/zero | tr '\\0' x; echo\n"
    for host in ("ex1", "ex2"):
        lab.exec(host, "cp", "-p", "/home/alice/.bashrc", saved)
        lab.exec(host, "sh", "-c", f"cat - {saved} > /home/alice/.bashrc", input=noisy)
    try:
        servers.append(("alice", "noisy"))
        status, body = hub.start("alice", "noisy", SMALL)
        assert status == 202, (status, body)
        events = hub.progress("alice", "noisy", timeout=120)
        text = "\n".join(e.get("message", "") for e in events)
        print(f"\nspawn with a noisy ~/.bashrc: {events[-1]}")
        assert events[-1].get("failed"), events
        assert "the session printed more than 64 KiB that was not an answer of the server's launcher; the hub " \
               "reads no more. Your shell's start-up files (~/.bashrc, ~/.profile) run in the job: make them " \
               "print nothing when the shell is not interactive" in text, text
    finally:
        for host in ("ex1", "ex2"):
            lab.exec(host, "mv", saved, "/home/alice/.bashrc")
    wait_for(lambda: set(jobs_of(lab, "alice")) <= before, 60, "the failed spawn's job to leave the queue")


def private_to(lab, host, uid, directory, path):
    """Whether `path` is in `directory` and both are `uid`'s, with no access for group or others."""
    if not path.startswith(directory.rstrip("/") + "/"):
        return False
    lines = lab.exec(host, "stat", "-c", "%u %a", directory, path).stdout.splitlines()
    return all(int(owner) == uid and int(mode, 8) & 0o077 == 0 for owner, mode in map(str.split, lines))


# -- 4: private endpoint ----------------------------------------------------------

def test_another_user_on_the_worker_cannot_reach_the_server(lab, hub, servers):
    spawn(hub, servers, "alice", "private")
    state = job_of(hub, "alice", "private")
    host = remote_host(lab, state["cluster"]).split(".")[0]
    # The job's /tmp, where the server's socket is, is its own: on the worker it
    # is the scratch directory's tmp/.
    sock = sandbox(lab, host, state["cluster"], "tmp", ".unchained", "jupyter.sock")
    probe = ("import socket,sys\n"
             "s=socket.socket(socket.AF_UNIX)\n"
             "try:\n s.connect(sys.argv[1]); print('connected')\n"
             "except OSError as e: print(type(e).__name__)\n")
    assert lab.exec(host, "python3", "-c", probe, sock, user="bob").stdout.strip() == "PermissionError"
    assert lab.exec(host, "python3", "-c", probe, sock, user="alice").stdout.strip() == "connected"
    mode = lab.exec(host, "stat", "-c", "%a %U", sock.rsplit("/", 1)[0]).stdout.split()
    assert mode == ["700", "alice"]
    # The server listens on no TCP port at all.
    listeners = lab.exec(host, "ss", "-Hltnp").stdout
    assert "jupyterhub-sin" not in listeners and "python" not in listeners, listeners


# -- 5: no report API ---------------------------------------------------------

def test_batchspawner_report_api_not_installed(hub):
    status, _ = hub.request("POST", "/hub/api/batchspawner", {"exec_prefix": "sh -c id"})
    assert status == 404


# -- 10: progress -----------------------------------------------------------------

def test_progress_names_job_host_and_steps(lab, hub, servers):
    start_in_background(hub, servers, "alice", "progress", SMALL)
    events = hub.progress("alice", "progress")
    text = "\n".join(e.get("message", "") for e in events)
    assert re.search(r"Submitted job \d+\.0", text), text
    assert re.search(r"running on ex[12]\.lab\.test", text), text
    assert "Connected" in text and events[-1].get("ready"), text


def test_unmatchable_job_is_explained_then_cancelled(lab, hub, servers):
    start_in_background(hub, servers, "alice", "gpu", {**SMALL, "gpus": 1})
    events = hub.progress("alice", "gpu", timeout=30,
                          until=lambda evs: "still waiting" in evs[-1].get("message", ""))
    text = "\n".join(e.get("message", "") for e in events)
    assert "waiting for a machine" in text, text
    # In the form's words; HTCondor's own folded under them.
    assert "no machine in the pool has the 1 GPU you asked for. Press Stop Server" in text, text
    assert "TARGET.GPUs" not in text and "TARGET.GPUs" in events[-1]["html_message"], events[-1]
    cluster = int(re.search(r"Submitted job (\d+)\.0", text).group(1))
    hub.stop("alice", "gpu")
    # The hub's poller takes the job out after the stop returns.
    wait_for(lambda: left_queue(lab, "alice", [cluster]), 30, "the cancelled spawn's job to be removed", interval=1)


def test_held_job_removed_and_reason_shown(lab, hub, servers):
    servers.append(("alice", "broken"))
    status, body = hub.start("alice", "broken", {**SMALL, "environment": "lab-missing"})
    assert status in (202, 500), (status, body)
    events = hub.progress("alice", "broken") if status == 202 else []
    text = json.dumps(events) + json.dumps(body)
    assert "held" in text and "/opt/unchained/missing" in text, text
    wait_for(lambda: not [c for c in jobs_of(lab, "alice")
                          if lab.job_attr(str(c), "UnchainedEnvironment") == "lab-missing"],
             30, "the held job to be removed")


# -- 9: one query for everyone ----------------------------------------------------

def schedd_queries(lab):
    """Job queries the schedd has served, from its command log (SCHEDD_DEBUG = D_COMMAND):
    every query is logged there, whoever makes it, but the overlay manager's
    (test_scale_out.py), another service's look at the queue."""
    log = lab.exec("hub", "cat", "/var/log/condor/SchedLog").stdout
    return len(re.findall(r"QUERY_JOB_ADS\) from (?!overlay-manager@)", log))


def queries_per_minute(lab, seconds=30):
    before, t0 = schedd_queries(lab), time.monotonic()
    time.sleep(seconds)
    return (schedd_queries(lab) - before) / ((time.monotonic() - t0) / 60)


def test_one_schedd_query_per_interval_for_all_servers(lab, hub, servers):
    spawn(hub, servers, "alice", "q1")
    time.sleep(2)
    one = queries_per_minute(lab)
    for user, name in (("alice", "q2"), ("alice", "q3"), ("alice", "q4"), ("bob", "q5")):
        spawn(hub, servers, user, name)
    time.sleep(2)
    five = queries_per_minute(lab)
    print(f"schedd queries per minute: {one:.1f} with 1 server, {five:.1f} with 5 servers")
    # status_interval is 10 s in the lab: about 6 per minute, whatever the number of servers
    # (30 s, so 2 per minute, by default).
    assert one <= 8 and five <= 8, (one, five)


# -- 6, 7: tunnel supervision -------------------------------------------------------

def answers(hub, user, name, timeout=1):
    try:
        return hub.user_api(user, "api/status", name, timeout=timeout)[0] == 200
    except OSError:  # timeouts included
        return False


def tunnel_pids(lab, user, cluster):
    """The server's ssh (its forward's hub end is named after the job)."""
    pattern = f"ssh .* -L [^ ]*/job-{int(cluster)}\\.sock:.*"
    # pgrep exits 1 when there is none: an answer, not a failure.
    return lab.exec("hub", "pgrep", "-u", user, "-x", "-f", "--", pattern, check=False).stdout.split()


def test_killed_tunnel_comes_back_and_session_survives(lab, hub, servers):
    spawn(hub, servers, "alice", "tunnel")
    spawn(hub, servers, "bob", "bystander")
    state = job_of(hub, "alice", "tunnel")
    bystander = tunnel_pids(lab, "bob", job_of(hub, "bob", "bystander")["cluster"])
    status, kernel = hub.user_api("alice", "api/kernels", "tunnel", method="POST", body={"name": "python3"})
    assert status == 201, (status, kernel)
    pids = tunnel_pids(lab, "alice", state["cluster"])
    assert len(pids) == 1, pids
    lab.exec("hub", "kill", "-9", pids[0])
    t0 = time.monotonic()
    wait_for(lambda: answers(hub, "alice", "tunnel"), 10, "the server to answer again", interval=0.05)
    recovered = time.monotonic() - t0
    print(f"tunnel killed: server answers again after {recovered:.2f} s")
    assert recovered <= 3
    status, kernels = hub.user_api("alice", "api/kernels", "tunnel")
    assert status == 200 and kernel["id"] in [k["id"] for k in kernels]
    assert job_of(hub, "alice", "tunnel")["cluster"] == state["cluster"]
    # Another user's tunnel was not touched.
    assert tunnel_pids(lab, "bob", job_of(hub, "bob", "bystander")["cluster"]) == bystander
    assert answers(hub, "bob", "bystander")


def test_hung_tunnel_is_replaced(lab, hub, servers):
    spawn(hub, servers, "alice", "hung")
    state = job_of(hub, "alice", "hung")
    pids = tunnel_pids(lab, "alice", state["cluster"])
    assert len(pids) == 1, pids
    lab.exec("hub", "kill", "-STOP", pids[0])
    t0 = time.monotonic()
    try:
        wait_for(lambda: answers(hub, "alice", "hung"), 15, "the server to answer again", interval=0.05)
    finally:
        lab.exec("hub", "kill", "-CONT", pids[0], check=False)
    recovered = time.monotonic() - t0
    print(f"tunnel hung: server answers again after {recovered:.2f} s")
    # Three probes (1 s apart, 1 s each) must fail in a row before the
    # tunnel counts as lost: one slow answer must not tear it down.
    assert recovered <= 10
