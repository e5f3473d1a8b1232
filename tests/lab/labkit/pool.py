"""Configuring hosts with `puppet apply` and waiting for the HTCondor pool."""

import functools
import hashlib
import time

from . import config, dist
from .config import LabError
from .hosts import Machine
from .run import say

PUPPET_APPLY = ["puppet", "apply", "--detailed-exitcodes", "--color=false",
                f"--hiera_config={config.GUEST_HIERA}/hiera.yaml",
                f"{config.GUEST_PUPPET_ENV}/manifests/site.pp"]

# puppet apply --detailed-exitcodes: 0 no changes, 2 changes, 4 failures,
# 6 changes and failures.
APPLY_OK = (0, 2)


# One labctl command sees one configuration: hash it once, not per host.
@functools.cache
def configuration_digest():
    """A hash of everything puppet apply reads from the host machine."""
    digest = hashlib.sha256()
    for tree in (config.REPO_DIR / "puppet", config.LAB_DIR / "hiera"):
        # Hidden files are tool caches (puppet-strings' .yardoc), not configuration.
        files = (p for p in tree.rglob("*") if p.is_file() and not any(
            part.startswith(".") for part in p.relative_to(tree).parts))
        for path in sorted(files):
            digest.update(str(path.relative_to(config.REPO_DIR)).encode() + b"\0" + path.read_bytes())
    # Our package, which Puppet installs from the lab's build of hub/.
    digest.update(dist.source_digest().encode())
    return digest.hexdigest()


def apply_state(machine):
    """'converged' if the host was applied with the configuration as it is now,
    'stale' if the configuration has changed since, else 'not applied'."""
    if not machine.converged.exists():
        return "not applied"
    applied = machine.converged.read_text().split()[0]
    return "converged" if applied == configuration_digest() else "stale"


def apply(machine):
    """Run the host's role with puppet apply; return Puppet's exit status and its log."""
    log = machine.dir / f"apply-{time.strftime('%Y%m%dT%H%M%S')}.log"
    digest = configuration_digest()
    started = time.monotonic()
    result = machine.exec(PUPPET_APPLY, capture=True)
    log.write_text(result.stdout + result.stderr)
    if result.returncode in APPLY_OK:
        machine.converged.write_text(f"{digest} {time.monotonic() - started:.1f}\n")
    return result.returncode, log


def startd_addresses(cm):
    """Map of each advertised startd's machine to its contact address."""
    result = cm.exec(["condor_status", "-startd", "-af", "Machine", "MyAddress"], capture=True)
    if result.returncode != 0:
        return {}
    ads = {}
    for line in result.stdout.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            ads[parts[0]] = parts[1]
    return ads


def unregistered(ads):
    """The execute hosts whose startd is not advertised with a CCB address in ads."""
    return [h for h in config.EXECUTE_HOSTS if "CCBID=" not in ads.get(h.fqdn, "")]


def pool_ready(cm):
    """True when every execute host advertises a startd reachable through CCB."""
    return not unregistered(startd_addresses(cm))


def wait_pool_ready(cm, timeout=120, restart_after=45):
    """Wait until every startd is advertised through CCB. A startd still
    without a CCB address after restart_after seconds is restarted once: an
    HTCondor 23.9 startd that missed the CCB can take minutes to retry (see
    Known limits in README.md), and this happened once in a loaded lab."""
    started = time.monotonic()
    deadline = started + timeout
    restarted = set()
    while time.monotonic() < deadline:
        missing = unregistered(startd_addresses(cm))
        if not missing:
            return
        if time.monotonic() - started > restart_after:
            for h in missing:
                if h.name not in restarted:
                    say(f"{h.name}: its startd is not registered with the CCB after {restart_after} s; "
                        "restarting HTCondor there once")
                    Machine(h).exec(["systemctl", "restart", "condor"], capture=True)
                    restarted.add(h.name)
        time.sleep(0.5)
    ads = startd_addresses(cm)
    raise LabError(f"pool not ready after {timeout} s: startds seen by the collector: {ads or 'none'}; "
                   f"see `labctl collect DIR` for daemon logs")
