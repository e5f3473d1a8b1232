"""Wheels the lab builds for its hosts: our own package, from hub/, and
those of the overlay manager that PyPI has as source only.

The wheels go into STATE_DIR/dist, which every host sees read-only at
config.GUEST_DIST, with their versions and sha256 as Hiera data beside them
(PIN_FILE: `unchained::package`, `profile::overlay_manager::tardis_package`):
Puppet installs exactly those wheels, the way a site pins the ones in its
wheelhouse, and again whenever a hash changes. Ours is rebuilt only when
hub/ has changed since the last build; the others are built once per
pinned source (SOURCES, checked against its hash) and kept in the cache.
"""

import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

from . import cache, config, hiera
from .run import run, say

HUB_DIR = config.REPO_DIR / "hub"
PIN_FILE = "unchained.yaml"
SOURCES = config.REPO_DIR / "puppet/site-modules/unchained_hub/files/venvs/overlay-manager-sources.txt"
# The Hiera key that pins the wheel built from each source package.
SOURCE_PINS = {"cobald-tardis": "profile::overlay_manager::tardis_package"}


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
    """Build the wheels that are missing or out of date; return their directory."""
    out = dist_dir()
    stamp = config.STATE_DIR / "dist.digest"
    digest = source_digest() + cache.inputs_key([SOURCES])
    if stamp.exists() and stamp.read_text() == digest and (out / PIN_FILE).exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.whl"):
        old.unlink()
    pins = {"unchained::package": _build_ours(out)}
    for name, wheel in _build_from_sources().items():
        shutil.copy2(wheel, out / wheel.name)
        pins[SOURCE_PINS[name]] = _pin(out / wheel.name)
    (out / PIN_FILE).write_text("---\n# Written by labctl for the wheels beside it.\n"
                                + "".join(hiera.hash_of(key, pin) for key, pin in pins.items()))
    stamp.write_text(digest)
    return out


def _pin(wheel):
    return {"version": wheel.name.split("-")[1], "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}


def _build_ours(out):
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
        (wheel,) = wheels.glob("*.whl")
        shutil.copy2(wheel, out / wheel.name)
    return _pin(out / wheel.name)


def _build_from_sources():
    """{name: wheel} built from the pinned sources (with the host machine's
    pip and setuptools: they are pure Python), kept in the cache."""
    target = config.CACHE_DIR / f"source-wheels-{cache.inputs_key([SOURCES])}"
    if not (target / "complete").exists():
        say(f"building wheels from {SOURCES.name}")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "--no-binary=:all:", "--require-hashes", "--wheel-dir", target, "--requirement", SOURCES],
            step=f"building wheels from {SOURCES.name}")
        (target / "complete").write_text("")
        cache.remove_stale("source-wheels", keep=target)
    wheels = {}
    for wheel in target.glob("*.whl"):
        name = wheel.name.split("-")[0].replace("_", "-").lower()
        wheels[name] = wheel
    return wheels
