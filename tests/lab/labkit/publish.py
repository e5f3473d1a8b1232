"""The notebook environment on the lab's CVMFS stand-in.

The publisher host runs the project's own cvmfs/publish against the
cvmfs_server test double; the tree it publishes is STATE_DIR/cvmfs/REPO,
which execute hosts mount read-only at /cvmfs/REPO.
"""

import time

from . import config, dist
from .config import LabError
from .run import say


def published(version, name=config.NOTEBOOK_ENV):
    """Where a published version's files are, on this machine."""
    return config.cvmfs_storage() / config.CVMFS_REPO / "envs" / name / version


def publish_argv(version, *, default=False):
    return [f"{config.GUEST_SOURCE}/cvmfs/publish", "--repo", config.CVMFS_REPO, "--version", version,
            "--cvmfs-server", config.CVMFS_SERVER_DOUBLE, *(["--default"] if default else []),
            # notebook-env/build's options: packages only from the lab's own sources.
            "--local-packages", config.GUEST_DIST, "--find-links", config.GUEST_WHEELS, "--no-index"]


def ensure_published(publisher):
    """Publish the lab's environment version unless it is there already."""
    version = config.NOTEBOOK_ENV_VERSION
    stamp = config.STATE_DIR / "published-hub.digest"
    if published(version).exists():
        if stamp.exists() and stamp.read_text() != dist.source_digest():
            say(f"note: hub/ changed since {config.NOTEBOOK_ENV}/{version} was published; its jobs run the "
                "older unchained-singleuser until the lab is rebuilt (labctl down; labctl up)")
        return
    log = config.STATE_DIR / f"publish-{version}.log"
    say(f"publishing {config.NOTEBOOK_ENV}/{version} on {publisher.host.name} (log: {log})")
    started = time.monotonic()
    result = publisher.exec(publish_argv(version, default=True), capture=True)
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise LabError(f"publishing {config.NOTEBOOK_ENV}/{version} failed; log: {log}")
    stamp.write_text(dist.source_digest())
    say(f"published {config.NOTEBOOK_ENV}/{version} in {time.monotonic() - started:.0f} s")
