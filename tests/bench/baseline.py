"""The baseline on the running lab: a second JupyterHub on `hub` with stock
batchspawner 1.3.0 CondorSpawner, the worker firewall opening it needs, and
the light server's file on the workers. Everything here is undone by the
bench when it ends, failed or not (README.md).
"""

import contextlib
import secrets
import time
import urllib.error
import urllib.request

import benchlib
import firewall
from labkit import config
from labkit.config import LabError
from labkit.tls import client_context

UNIT = "unchained-bench-baseline"
# Under /run: a runtime unit, gone at the next boot even if the bench is killed.
UNIT_PATH = f"/run/systemd/system/{UNIT}.service"
STATE_ROOT = "/var/lib/unchained-bench"
STATE_DIR = f"{STATE_ROOT}/baseline"
CONFIG_PATH = f"{STATE_DIR}/jupyterhub_config.py"
VENV = "/opt/jupyterhub"  # the same JupyterHub 6.1.1 and batchspawner 1.3.0 as our hub's
# Ports of its own, next to our hub's 8000 (proxy) and 8081 (hub API).
PROXY_PORT, PROXY_API_PORT, HUB_PORT = 8010, 8011, 8091
# The job attribute by which leftover baseline jobs are found and removed.
JOB_MARKER = "UnchainedBench"
# The notebook environment on the workers (CVMFS), as our lab-no-image environment uses it.
ENV_BIN = f"/cvmfs/{config.CVMFS_REPO}/envs/{config.NOTEBOOK_ENV}/{config.NOTEBOOK_ENV_VERSION}/bin"
# On the execute hosts: the light server of P4, copied there for the run.
LIGHT_DIR = "/srv/unchained-bench"
LIGHT_SERVER = f"{LIGHT_DIR}/light_server.py"
LIGHT_PREFIX = "light-"
TLS_DIR = "/etc/jupyterhub/tls"


def write_file(lab, host, path, text, mode):
    """Write text to path on a host; the text goes on stdin (dd prints nothing,
    so a failure message cannot show it)."""
    lab.exec(host, "dd", f"of={path}", "status=none", input=text)
    lab.exec(host, "chmod", mode, path)


class BaselineHub:
    def __init__(self, lab, users, memory_mb, light_memory_mb, disk_kb):
        self.lab = lab
        self.token = secrets.token_hex(32)
        hub = config.host("hub")
        self.url = f"https://{hub.address}:{PROXY_PORT}/"
        # As the hub host itself reaches the proxy (the kernel client runs there).
        self.guest_url = f"https://127.0.0.1:{PROXY_PORT}/"
        self.settings = benchlib.BaselineSettings(
            token=self.token, state_dir=STATE_DIR, proxy_port=PROXY_PORT, proxy_api_port=PROXY_API_PORT,
            hub_port=HUB_PORT, hub_connect_url=f"http://{hub.fqdn}:{HUB_PORT}",
            ssl_cert=f"{TLS_DIR}/hub.crt", ssl_key=f"{TLS_DIR}/hub.key",
            singleuser_cmd=f"{ENV_BIN}/batchspawner-singleuser", notebook_cmd=f"{ENV_BIN}/jupyterhub-singleuser",
            light_cmd=LIGHT_SERVER, light_prefix=LIGHT_PREFIX, users=tuple(users), memory_mb=memory_mb,
            light_memory_mb=light_memory_mb, disk_kb=disk_kb, job_marker=JOB_MARKER)

    def start(self):
        self.remove()  # whatever a killed run left behind
        lab = self.lab
        lab.exec("hub", "mkdir", "-p", "-m", "0700", STATE_DIR)
        write_file(lab, "hub", CONFIG_PATH, benchlib.baseline_config(self.settings), "0600")
        write_file(lab, "hub", UNIT_PATH, benchlib.baseline_unit(CONFIG_PATH, VENV), "0644")
        lab.exec("hub", "systemctl", "daemon-reload")
        lab.exec("hub", "systemctl", "start", UNIT)
        self.wait_answering()
        # Stock batchspawner cannot start a server without its report API.
        status = self._status_of("hub/api/batchspawner", method="POST")
        if status == 404:
            raise LabError("the baseline hub has no /hub/api/batchspawner: see the handler note in its config")

    def restart(self):
        self.lab.exec("hub", "systemctl", "restart", UNIT)

    def wait_answering(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._status_of("hub/api/") == 200:
                return
            time.sleep(0.2)
        log = self.lab.exec("hub", "journalctl", "-u", UNIT, "-n", "30", "--no-pager", "-q", check=False).stdout
        raise LabError(f"the baseline hub did not answer at {self.url} within {timeout} s:\n{log}")

    def _status_of(self, path, method="GET"):
        request = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(request, timeout=5, context=client_context()) as answer:
                return answer.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return None

    def remove(self):
        """Stop the hub, remove its jobs, unit and state; safe to call at any time."""
        lab = self.lab
        lab.exec("hub", "systemctl", "stop", UNIT, check=False)
        lab.exec("hub", "systemctl", "reset-failed", UNIT, check=False)
        # Its jobs, if a stop did not remove them (as root: queue super user).
        lab.exec("hub", "condor_rm", "-constraint", f'{JOB_MARKER} =?= "baseline"', check=False)
        lab.exec("hub", "rm", "-f", UNIT_PATH)
        lab.exec("hub", "systemctl", "daemon-reload")
        lab.exec("hub", "rm", "-rf", STATE_ROOT)


@contextlib.contextmanager
def light_server_on_workers(lab, source):
    """The light server's file on every execute host, for as long as the run."""
    try:
        for host in config.EXECUTE_HOSTS:
            lab.exec(host.name, "mkdir", "-p", "-m", "0755", LIGHT_DIR)
            # Executable: batchspawner-singleuser finds its command with shutil.which.
            write_file(lab, host.name, LIGHT_SERVER, source.read_text(), "0755")
        yield LIGHT_SERVER
    finally:
        for host in config.EXECUTE_HOSTS:
            lab.exec(host.name, "rm", "-rf", LIGHT_DIR, check=False)


def firewall_is_closed():
    """True when no execute host has the bench's rule."""
    return not any(firewall.listed_baseline_rules(host) for host in config.EXECUTE_HOSTS)


def close_leftover_rules(say):
    """Remove the bench's rule wherever an earlier run, killed hard, left it."""
    for host in config.EXECUTE_HOSTS:
        if firewall.close_for_baseline(host):
            say(f"FIREWALL: removed a rule an earlier bench run left open on {host.name}")


@contextlib.contextmanager
def firewall_open_for_baseline(say, events):
    """Open each execute host's firewall to TCP from the hub (ephemeral ports,
    where batchspawner-singleuser listens) and close it again on the way out,
    whatever happened; both are said on stdout and recorded in `events`."""
    hub_address = config.host("hub").address
    names = ", ".join(h.name for h in config.EXECUTE_HOSTS)
    try:
        for host in config.EXECUTE_HOSTS:
            firewall.open_for_baseline(host, hub_address)
        events.append({"time": time.time(), "event": "firewall opened", "hosts": names,
                       "rule": f"TCP from {hub_address} to the ephemeral ports"})
        say(f"FIREWALL OPENED on {names}: TCP from the hub ({hub_address}) to the workers' ephemeral ports, "
            "for the baseline only")
        yield
    finally:
        errors = []
        for host in config.EXECUTE_HOSTS:
            try:
                firewall.close_for_baseline(host)
            except LabError as e:
                errors.append(str(e))
        if errors or not firewall_is_closed():
            events.append({"time": time.time(), "event": "firewall NOT closed", "errors": errors})
            say(f"FIREWALL STILL OPEN: {'; '.join(errors)}. Remove the rule commented "
                f"'{firewall.BASELINE_RULE_COMMENT}' by hand.")
            raise LabError("could not close the worker firewall again")
        events.append({"time": time.time(), "event": "firewall closed", "hosts": names})
        say(f"FIREWALL CLOSED again on {names}")
