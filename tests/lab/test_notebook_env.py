"""The notebook environment: built from notebook-env/ by cvmfs/publish on the
lab's publisher, loaded with Lmod on the firewalled workers, run by the hub.

CVMFS itself is not here (no registry packages it): the publisher runs the
cvmfs_server TEST DOUBLE of tests/doubles, and the workers' /cvmfs/REPO is a
read-only bind mount of the published tree. Everything else is real: the
build, the smoke test, Lmod, the notebook server, its kernels.
"""

import hashlib
import json
import re
import time

import pytest
from hubclient import spawn, start_in_background
from labtest import GUEST_CA, LAB_DIR

REPO = "notebooks.lab.test"
ROOT = f"/cvmfs/{REPO}"
SOURCE = "/srv/unchained-lab/source"
VERSION = "2026.11"  # published (and the default) by labctl up
NEW = "2026.12"  # published by a test, next to it
PUBLISH = [f"{SOURCE}/cvmfs/publish", "--repo", REPO, "--cvmfs-server", f"{SOURCE}/tests/doubles/cvmfs_server_double",
           "--local-packages", "/srv/unchained-lab/dist", "--find-links", "/srv/unchained-lab/wheels", "--no-index"]
CALLS = f"/srv/cvmfs/.spool/{REPO}/calls.log"


def login_shell(lab, commands, host="ex1", user="alice", check=True):
    return lab.exec(host, "bash", "-lc", commands, user=user, check=check)


def published_tree(lab):
    """What clients see: every path down to the versions, with link targets, and the default."""
    return lab.exec("ex1", "sh", "-c", f"cd {ROOT} && find . -maxdepth 3 -printf '%p %l\\n' | sort").stdout


def calls(lab):
    return [json.loads(line) for line in lab.exec("pub", "cat", CALLS).stdout.splitlines()]


def publish(lab, version, *extra, timeout=900):
    started = time.monotonic()
    result = lab.exec("pub", *PUBLISH, "--version", version, *extra, timeout=timeout, check=False)
    return result, time.monotonic() - started


# -- 1. module load, read-only ---------------------------------------------------


def test_module_load_puts_the_cvmfs_environment_first_on_path(lab):
    started = time.monotonic()
    out = login_shell(lab, "module load jupyter && echo PATH=$PATH && command -v jupyterhub-singleuser "
                           "&& jupyterhub-singleuser --version && module -t avail jupyter 2>&1").stdout
    print(f"\nlogin shell + module load jupyter + --version on ex1: {time.monotonic() - started:.2f} s")
    assert f"PATH={ROOT}/envs/jupyter/{VERSION}/bin:" in out
    assert f"{ROOT}/envs/jupyter/{VERSION}/bin/jupyterhub-singleuser" in out
    assert re.search(r"^6\.1\.1$", out, re.M), out  # the hub's JupyterHub version
    assert f"jupyter/{VERSION}" in out


def test_module_load_alone_is_fast(lab):
    out = login_shell(lab, "s=$(date +%s%N); module load jupyter; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))")
    ms = int(out.stdout.split()[-1])
    print(f"\nmodule load jupyter: {ms} ms")
    assert ms < 2000


@pytest.mark.parametrize("user", ["alice", None])
def test_the_repository_is_read_only_on_workers(lab, user):
    result = lab.exec("ex1", "touch", f"{ROOT}/envs/jupyter/{VERSION}/bin/intruder", user=user, check=False)
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr


def test_each_version_is_its_own_nested_catalogue(lab):
    assert lab.exec("ex1", "cat", f"{ROOT}/.cvmfsdirtab").stdout.splitlines()[-1] == "/envs/*/*"
    lab.exec("ex1", "test", "-e", f"{ROOT}/envs/jupyter/{VERSION}/.cvmfscatalog")


def test_the_build_records_its_backend_and_what_it_left_out(lab):
    manifest = json.loads(lab.exec("ex1", "cat", f"{ROOT}/envs/jupyter/{VERSION}/unchained-env.json").stdout)
    assert manifest["backend"] == "venv"
    assert set(manifest["left_out"]) == {"r-base", "r-irkernel"}
    # Its own kernels; R comes from the job image (test_every_kernel_...).
    assert manifest["kernels"] == ["bash", "python3"], manifest
    size = lab.exec("ex1", "du", "-sm", f"{ROOT}/envs/jupyter/{VERSION}").stdout.split()[0]
    print(f"\nenvironment {VERSION}: built in {manifest['build_seconds']} s (venv backend), {size} MB")


# -- 2 and 3. a notebook job from the module, through the hub -----------------------

CVMFS_SERVER = {"cpus": 1, "memory_gb": 0.3, "disk_gb": 1, "runtime_hours": 1, "environment": f"jupyter-{VERSION}"}


@pytest.fixture(scope="module")
def cvmfs_server(lab):
    """alice's server 'cvmfs', started by the hub from the environment's module."""
    from hubclient import Hub  # the hub fixture is per test; this server is per module
    hub = Hub(lab.labctl("url").stdout.strip(), lab.labctl("hub-token").stdout.strip())
    started = []
    seconds = spawn(hub, started, "alice", "cvmfs", CVMFS_SERVER)
    print(f"\nspawn POST -> ready with the CVMFS environment: {seconds:.2f} s")
    yield hub
    hub.stop("alice", "cvmfs")


def kernel_exec(lab, hub, kernel, code):
    params = {"url": "https://127.0.0.1:8000/user/alice/cvmfs", "ca": GUEST_CA, "token": hub.token,
              "kernel": kernel, "code": code}
    return json.loads(lab.hub_helper("kernel_client.py", "exec", params=params, timeout=150))


def test_the_job_runs_the_server_from_cvmfs_with_the_module_loaded(lab, cvmfs_server):
    code = "import os, sys, socket; print(sys.prefix, os.environ.get('LOADEDMODULES'), socket.gethostname())"
    result = kernel_exec(lab, cvmfs_server, "python3", code)
    assert result["status"] == "ok", result
    prefix, modules, host = result["output"].split()
    assert prefix == f"{ROOT}/envs/jupyter/{VERSION}"
    assert f"jupyter/{VERSION}" in modules.split(":")
    assert host in ("ex1.lab.test", "ex2.lab.test")


@pytest.mark.parametrize("kernel,code,expected", [
    ("python3", "import numpy; print(int(numpy.arange(7).sum() * 2))", "42"),
    ("bash", "echo $((6 * 7)) $(hostname)", "42 ex"),
    # R and IRkernel come from the job image, in which this environment runs.
    ("ir", "cat(6 * 7, R.version.string)", "42 R version 4."),
])
def test_every_kernel_executes_code_over_the_websocket(lab, cvmfs_server, kernel, code, expected):
    specs = cvmfs_server.user_api("alice", "api/kernelspecs", server="cvmfs")[1]["kernelspecs"]
    assert set(specs) == {"python3", "bash", "ir"}, sorted(specs)
    assert specs["ir"]["spec"]["display_name"] == "R", specs["ir"]
    result = kernel_exec(lab, cvmfs_server, kernel, code)
    assert result["status"] == "ok" and result["output"].startswith(expected), result


def test_the_xpra_desktop_is_registered_and_listed_in_the_job_image(lab, cvmfs_server):
    """The environment registers the Xpra launcher with jupyter-server-proxy,
    which lists it only where an `xpra` command exists: in the job image
    (container/), where the default environment runs; Debian trixie, the
    workers' OS, has no xpra at all. test_container.py opens the desktop."""
    code = ("import shutil; from importlib.metadata import entry_points; "
            "print(sorted(e.name for e in entry_points(group='jupyter_serverproxy_servers')), shutil.which('xpra'))")
    result = kernel_exec(lab, cvmfs_server, "python3", code)
    assert result["status"] == "ok", result
    assert result["output"].split() == ["['xprahtml5']", "/usr/bin/xpra"], result
    status, info = cvmfs_server.user_api("alice", "server-proxy/servers-info", server="cvmfs")
    assert status == 200, info
    assert "xprahtml5" in [s["name"] for s in info["server_processes"]], info


def test_resource_usage_reports_cpu_and_memory_against_the_jobs_requests(cvmfs_server):
    status, metrics = cvmfs_server.user_api("alice", "api/metrics/v1", server="cvmfs")
    assert status == 200, metrics
    assert metrics["limits"]["memory"]["rss"] == 307 * 1024 * 1024  # memory_gb 0.3 -> 307 MB requested
    assert metrics["limits"]["cpu"]["cpu"] == 1  # cpus 1
    assert metrics["rss"] > 0 and metrics["cpu_percent"] >= 0


def test_a_module_that_does_not_load_ends_the_job_with_lmods_reason(lab, cvmfs_server):
    hub = cvmfs_server
    # Watched from the start, as the spawn page does (a page opened after the
    # failure gets the failure alone).
    start_in_background(hub, [], "alice", "unpublished", {**CVMFS_SERVER, "environment": "lab-unpublished"})
    try:
        events = hub.progress("alice", "unpublished")
        text = "\n".join(e.get("message", "") for e in events)
        cluster = re.search(r"Job (\d+)\.0 ended before the server was ready", text)
        assert cluster, text
        err = f"/home/alice/.jupyterhub-unchained/job-{cluster.group(1)}.err"
        assert f"Its whole output is in ~/.jupyterhub-unchained/job-{cluster.group(1)}.err" in text
        output = " ".join(lab.exec("hub", "cat", err).stdout.split())  # Lmod wraps long lines
        assert "could not load the notebook environment (module load jupyter/1999.1)" in output
        assert "Ask your site admin" in output
        # The spawn page shows the end of that output itself: its last line in
        # the failure, the last lines folded under it.
        last = [line.strip() for line in lab.exec("hub", "cat", err).stdout.splitlines() if line.strip()][-1]
        assert f'Its last words: "{last}".' in text, (last, text)
        shown = [e for e in events if "error output" in e.get("message", "")]
        assert shown and "<details>" in shown[0]["html_message"], events
        assert "could not load the notebook environment" in " ".join(shown[0]["html_message"].split())
    finally:
        if hub.server("alice", "unpublished") is not None:
            hub.stop("alice", "unpublished")


# -- 4. failures leave the repository as it was --------------------------------------


def broken_spec(lab, name, spec_text, lock_lines):
    """A spec and its lock (made from the real ones) in a directory on the publisher."""
    directory = f"/var/tmp/{name}"
    lab.exec("pub", "mkdir", "-p", f"{directory}/locks")
    digest = hashlib.sha256(spec_text.encode()).hexdigest()
    lock = "\n".join([f"# spec-sha256: {digest}", *lock_lines]) + "\n"
    lab.exec("pub", "tee", f"{directory}/environment.yml", input=spec_text)
    lab.exec("pub", "tee", f"{directory}/locks/pypi-cp313-x86_64.txt", input=lock)
    return f"{directory}/environment.yml"


def real_spec_and_lock():
    spec = (LAB_DIR.parent.parent / "notebook-env" / "environment.yml").read_text()
    lock = (LAB_DIR.parent.parent / "notebook-env" / "locks" / "pypi-cp313-x86_64.txt").read_text()
    entries = re.findall(r"^(\S+==\S+ \\\n    --hash=sha256:[0-9a-f]{64})$", lock, re.M)
    return spec, entries


def assert_unchanged_after(lab, version, before, result):
    assert result.returncode != 0, result.stdout
    assert f"{REPO} is left as it was" in result.stderr, result.stderr
    assert published_tree(lab) == before
    assert lab.exec("ex1", "test", "-e", f"{ROOT}/envs/jupyter/{version}", check=False).returncode == 1
    out = login_shell(lab, "module load jupyter && command -v python").stdout
    assert out.strip() == f"{ROOT}/envs/jupyter/{VERSION}/bin/python"
    last = [c["argv"][0] for c in calls(lab)][-2:]
    assert last == ["transaction", "abort"], calls(lab)[-3:]


def test_a_failed_build_aborts_and_leaves_the_repository_unchanged(lab):
    spec, entries = real_spec_and_lock()
    spec += "  - not-on-any-index=1.0\n"
    path = broken_spec(lab, "unresolvable", spec, [*entries, "not-on-any-index==1.0 \\\n    --hash=sha256:" + "0" * 64])
    before = published_tree(lab)
    result, seconds = publish(lab, "2026.13", "--spec", path)
    print(f"\nfailed build, aborted: {seconds:.1f} s")
    assert "build failed" in result.stderr or "build failed" in result.stdout
    assert_unchanged_after(lab, "2026.13", before, result)


def test_a_failed_smoke_test_aborts_and_leaves_the_repository_unchanged(lab):
    # An environment without the Xpra desktop builds fine; the smoke test must catch it.
    spec, entries = real_spec_and_lock()
    spec = spec.replace("  - jupyter-xprahtml5-proxy=0.3.5\n", "")
    entries = [e for e in entries if not e.startswith("jupyter-xprahtml5-proxy==")]
    path = broken_spec(lab, "no-desktop", spec, entries)
    before = published_tree(lab)
    result, seconds = publish(lab, "2026.14", "--spec", path)
    print(f"\nbuilt, smoke test failed, aborted: {seconds:.1f} s")
    assert "smoke: FAIL import jupyter_xprahtml5_proxy" in result.stdout
    assert "smoke test failed" in result.stderr
    assert_unchanged_after(lab, "2026.14", before, result)


def test_publish_refuses_while_a_transaction_is_open(lab):
    double = f"{SOURCE}/tests/doubles/cvmfs_server_double"
    lab.exec("pub", double, "transaction", REPO)
    try:
        result, _ = publish(lab, "2026.15")
        assert result.returncode != 0
        assert f"a transaction is already open for {REPO}" in result.stderr
        assert "Nothing was changed" in result.stderr
        # It neither built anything nor closed the transaction it did not open.
        assert [c["argv"][0] for c in calls(lab)][-1] == "transaction"
        assert lab.exec("pub", "test", "-e", f"{ROOT}/envs/jupyter/2026.15", check=False).returncode == 1
    finally:
        lab.exec("pub", double, "abort", "-f", REPO)


def test_a_published_version_is_never_rebuilt(lab):
    result, seconds = publish(lab, VERSION)
    assert result.returncode != 0 and "is published already" in result.stderr
    assert seconds < 10


# -- 5. two versions side by side ------------------------------------------------------


@pytest.fixture(scope="module")
def new_version(lab):
    """A second version, published next to the first (not made the default)."""
    if lab.exec("ex1", "test", "-d", f"{ROOT}/envs/jupyter/{NEW}", check=False).returncode != 0:
        result, seconds = publish(lab, NEW)
        assert result.returncode == 0, result.stdout + result.stderr
        print(f"\npublish {NEW} (build + smoke test + publish): {seconds:.1f} s")
    return NEW


SERVER_FROM_MODULE = r"""
module load jupyter/$1 || exit 1
start=$(date +%s%N)
jupyter server --no-browser --port=$2 --ServerApp.token=lab --ServerApp.root_dir=$HOME >/dev/null 2>&1 &
python -c '
import sys, time, urllib.request
while True:
    try:
        urllib.request.urlopen(urllib.request.Request(sys.argv[1], headers={"Authorization": "token lab"}))
        break
    except OSError:
        time.sleep(0.1)
' http://127.0.0.1:$2/api/kernelspecs
echo ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo cmdline=$(tr '\0' ' ' < /proc/$!/cmdline)
kill $!
"""


@pytest.mark.parametrize("version,port", [(VERSION, 18811), (NEW, 18812)])
def test_module_load_of_each_version_gives_its_own_server(lab, new_version, version, port):
    out = lab.exec("ex1", "bash", "-lc", SERVER_FROM_MODULE, "server", version, str(port), user="alice",
                   timeout=120).stdout
    ms = int(re.search(r"^ms=(\d+)$", out, re.M).group(1))
    print(f"\nmodule load jupyter/{version} -> server answering on ex1: {ms / 1000:.2f} s")
    cmdline = re.search(r"^cmdline=(.*)$", out, re.M).group(1)
    assert f"{ROOT}/envs/jupyter/{version}/bin/python" in cmdline, cmdline
    assert f"{ROOT}/envs/jupyter/{version}/bin/jupyter-server" in cmdline, cmdline


def test_the_default_stays_until_switched(lab, new_version):
    out = login_shell(lab, "module load jupyter && echo $UNCHAINED_JUPYTER_VERSION").stdout.split()
    assert out[-1] == VERSION
    out = login_shell(lab, f"module load jupyter/{NEW} && echo $UNCHAINED_JUPYTER_VERSION").stdout.split()
    assert out[-1] == NEW
