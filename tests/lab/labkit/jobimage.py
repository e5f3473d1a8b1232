"""The job image (container/), which execute hosts see read-only at
config.GUEST_JOB_IMAGE, where the hub's environments name it.

container/build caches the image by its definition's hash, so this costs a
second when nothing in container/ changed.
"""

from pathlib import Path

from . import config
from .config import LabError
from .run import run, say

BUILD = config.REPO_DIR / "container" / "build"


def cache_dir():
    return config.CACHE_DIR / "container"


def ensure_job_image():
    """Build the image unless cached; return its directory."""
    say("building the job image unless cached (container/build)")
    result = run([BUILD, "--cache-dir", cache_dir()], step="container/build")
    lines = [line for line in result.stdout.splitlines() if line.startswith("image: ")]
    if not lines:
        raise LabError(f"container/build named no image; it said:\n{result.stdout}{result.stderr}")
    path = Path(lines[-1].removeprefix("image: "))
    config.STATE_DIR.mkdir(parents=True, exist_ok=True)
    (config.STATE_DIR / "job-image").write_text(str(path))
    return path


def sandbox():
    """The Apptainer sandbox of the image this lab was brought up with."""
    recorded = config.STATE_DIR / "job-image"
    if not recorded.exists():
        raise LabError("the lab has no job image yet: run `labctl up`")
    return Path(recorded.read_text()) / "sandbox"
