"""The job image (container/): notebook jobs run in it with Apptainer, in
HTCondor's container universe, on the firewalled workers, and are reached
through the same tunnel as any other job.

The image is the real one, built by container/build on this machine;
execute hosts see its Apptainer sandbox read-only at GUEST_JOB_IMAGE (a site
keeps it on CVMFS). The hub's default environment names it, so every other
spawner test in the lab runs in it too.
"""

import json
import time

import pytest
from hubclient import Hub, job_of, spawn
from labtest import GUEST_CA, connect

IMAGE = "/srv/unchained-lab/images/unchained-job"
SERVER = {"cpus": 1, "memory_gb": 0.3, "disk_gb": 1, "runtime_hours": 1, "environment": "jupyter-2026.11"}
NAME = "image"


@pytest.fixture(scope="module")
def image_server(lab):
    """alice's server 'image', in the job image (the default environment)."""
    hub = Hub(lab.labctl("url").stdout.strip(), lab.labctl("hub-token").stdout.strip())
    seconds = spawn(hub, [], "alice", NAME, SERVER)
    print(f"\nspawn POST -> ready in the job image: {seconds:.2f} s")
    yield hub
    hub.stop("alice", NAME)


def in_the_job(lab, hub, guest_script, *args, **params):
    """Run a guest helper (tests/lab/guest) on the hub against alice's server."""
    params = {"url": f"https://127.0.0.1:8000/user/alice/{NAME}", "ca": GUEST_CA, "token": hub.token, **params}
    return json.loads(lab.hub_helper(guest_script, *args, params=params, timeout=150))


def python(lab, hub, code):
    result = in_the_job(lab, hub, "kernel_client.py", "exec", kernel="python3", code=code)
    assert result["status"] == "ok", result
    return result["output"]


# -- 1. the job runs inside the image ----------------------------------------------


def test_the_notebook_runs_inside_the_image_on_a_firewalled_worker(lab, image_server):
    out = python(lab, image_server, (
        "import os, socket, platform; "
        "osr = dict(l.split('=', 1) for l in open('/etc/os-release').read().split() if '=' in l); "
        "print(osr['VERSION_CODENAME'], open('/etc/unchained-image/id').read().strip(), socket.gethostname(), "
        "os.path.isdir('/.singularity.d'))"))
    codename, image_id, host, singularity_dir = out.split()
    assert host in ("ex1.lab.test", "ex2.lab.test")
    worker = host.split(".")[0]
    worker_os = lab.exec(worker, "sh", "-c", ". /etc/os-release && echo $VERSION_CODENAME").stdout.strip()
    print(f"\nthe job on {host} sees Debian {codename} ({image_id}); the worker is Debian {worker_os}")
    assert (worker_os, codename) == ("trixie", "forky")
    assert image_id == lab.exec(worker, "cat", f"{IMAGE}/etc/unchained-image/id").stdout.strip()
    assert singularity_dir == "True"
    assert lab.exec(worker, "test", "-e", "/etc/unchained-image/id", check=False).returncode != 0

    # HTCondor ran it as a container universe job, and the worker takes no connection.
    state = job_of(image_server, "alice", NAME)
    ad = lab.exec("hub", "condor_q", "-all", str(state["cluster"]), "-af", "JobUniverse", "WantContainer",
                  "ContainerImage").stdout
    # HTCondor 23 runs the container universe as vanilla with WantContainer.
    assert ad.split() == ["5", "true", IMAGE], ad
    assert connect(lab, "hub", host, 9618) == "timeout"


def test_cvmfs_and_the_modules_are_bound_into_the_container(lab, image_server):
    out = python(lab, image_server, "import os, sys; print(sys.prefix, os.environ['LOADEDMODULES'])")
    prefix, modules = out.split()
    assert prefix == "/cvmfs/notebooks.lab.test/envs/jupyter/2026.11"
    assert "jupyter/2026.11" in modules.split(":")


# -- 2. the tunnel reaches the server in the container -------------------------------


def test_the_tunnel_reaches_the_server_in_the_container(lab, image_server):
    """The hub's only way to the job is its session's forward to the server's
    Unix socket in the job's scratch directory (tmp/.unchained, which the
    session, outside the container, sees as /tmp/.unchained); the container
    binds the scratch directory in, so the server there listens on it."""
    status, model = image_server.user_api("alice", "api/status", server=NAME)
    assert status == 200 and "started" in model, model
    out = python(lab, image_server, "import os, pwd; d = os.path.join(os.environ['_CONDOR_SCRATCH_DIR'], 'tmp'); "
                                    "s = os.stat(d); print(pwd.getpwuid(s.st_uid).pw_name, oct(s.st_mode & 0o777), "
                                    "os.path.exists(os.path.join(d, '.unchained', 'jupyter.sock')))")
    assert out.split() == ["alice", "0o700", "True"], out


# -- 3. the login banner ----------------------------------------------------------------


def test_a_terminal_shows_the_banner_with_the_requested_resources(lab, image_server):
    result = in_the_job(lab, image_server, "terminal_read.py", type="echo $((6 * 7))-done", until="42-done")
    print(f"\nterminal opened, banner and prompt in {result['seconds']:.2f} s")
    # memory_gb 0.3 is 307 MB as requested; disk_gb 1 is 1048576 KiB.
    cluster = job_of(image_server, "alice", NAME)["cluster"]
    assert (f"You requested 1 core(s), 307 MB RAM and 1.0 GB disk space for this session "
            f"(HTCondor job {cluster}.0).") in result["output"], result["output"]


# -- the desktop ------------------------------------------------------------------------


def test_the_xpra_desktop_opens_through_the_server_proxy(lab, image_server):
    status, info = image_server.user_api("alice", "server-proxy/servers-info", server=NAME)
    assert status == 200 and "xprahtml5" in [s["name"] for s in info["server_processes"]], info
    started = time.monotonic()
    status, page = image_server.user_api("alice", "xprahtml5/", server=NAME, timeout=60)
    print(f"\nXpra's HTML5 client answered through the proxy in {time.monotonic() - started:.2f} s")
    assert status == 200 and "<title>xpra websockets client</title>" in page, page[:500]
    # The desktop's X11 application runs in the job, on Xpra's display.
    out = python(lab, image_server, "import subprocess; print(subprocess.run(['pgrep', '-a', 'xterm'], "
                                    "capture_output=True, text=True).stdout)")
    assert "xterm -fa DejaVu Sans Mono" in out, out


# -- 4. a missing image -------------------------------------------------------------------


def test_a_missing_image_holds_the_job_with_a_clear_reason_on_the_spawn_page(lab, image_server):
    """HTCondor alone would start the job again and again (its starter's
    "Singularity test failed" reaches only the job's event log); the job's
    hold policy ends that, and the spawn page shows the hold reason."""
    hub = image_server
    started = time.monotonic()
    status, body = hub.start("alice", "noimage", {**SERVER, "environment": "lab-missing-image"})
    try:
        if status == 500:  # failed within the hub's wait for the POST
            text = body["message"]
        else:
            assert status == 202, (status, body)
            events = hub.progress("alice", "noimage", timeout=150)
            assert events and events[-1].get("failed"), events
            text = "\n".join(e.get("message", "") for e in events)
        print(f"\nmissing image: the spawn failed after {time.monotonic() - started:.1f} s with:\n{text}")
        assert "held job" in text and "could not start in its container image /srv/unchained-lab/images/missing on "\
            in text, text
        assert "Ask your site admin" in text
        assert lab.exec("hub", "condor_q", "-all", "-constraint", 'Owner == "alice" && JobStatus == 5',
                        "-af", "ClusterId").stdout.strip() == "", "a held job was left in the queue"
    finally:
        if hub.server("alice", "noimage") is not None:
            hub.stop("alice", "noimage")
