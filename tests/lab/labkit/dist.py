"""Our own package, built from hub/ for the lab hosts.

The wheel goes into STATE_DIR/dist, which every host sees read-only at
config.GUEST_DIST, with its version and sha256 as Hiera data beside it
(PIN_FILE, `unchained::package`): Puppet installs exactly that wheel, the way
a site pins the one in its wheelhouse, and again whenever its hash changes.
It is rebuilt only when hub/ has changed since the last build.
"""

import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

from . import config, hiera
from .run import run, say

HUB_DIR = config.REPO_DIR / "hub"
PIN_FILE = "unchained.yaml"


def source_files():
    """hub/'s files, without caches and build output."""
    skip = ("__pycache__", "build", "dist")
    for path in sorted(HUB_DIR.rglob("*")):
        parts = path.relative_to(HUB_DIR).parts
        if path.is_file() and not any(p.startswith(".") or p in skip or p.endswith(".egg-info")
                                      for p in parts):
            yield path


def source_digest():
    digest = hashlib.sha256()
    for path in source_files():
        digest.update(str(path.relative_to(config.REPO_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def dist_dir():
    return config.STATE_DIR / "dist"


def ensure_dist():
    """Build the wheel if hub/ changed since the last build; return its directory."""
    out = dist_dir()
    stamp = config.STATE_DIR / "dist.digest"
    digest = source_digest()
    if stamp.exists() and stamp.read_text() == digest and any(out.glob("*.whl")) and (out / PIN_FILE).exists():
        return out
    say("building jupyterhub-unchained from hub/")
    with tempfile.TemporaryDirectory() as tmp:
        # Build from a copy: setuptools writes build output into its source.
        src = Path(tmp) / "hub"
        for path in source_files():
            target = src / path.relative_to(HUB_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        wheels = Path(tmp) / "wheels"
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "--wheel-dir", wheels, src], step="building the jupyterhub-unchained wheel")
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.whl"):
            old.unlink()
        (wheel,) = wheels.glob("*.whl")
        shutil.copy2(wheel, out / wheel.name)
    version = wheel.name.split("-")[1]
    sha256 = hashlib.sha256((out / wheel.name).read_bytes()).hexdigest()
    (out / PIN_FILE).write_text("---\n# Written by labctl for the wheel beside it.\n"
                                + hiera.hash_of("unchained::package", {"version": version, "sha256": sha256}))
    stamp.write_text(digest)
    return out
