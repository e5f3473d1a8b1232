"""Build outputs kept under config.CACHE_DIR, each in a directory named after
a hash of its inputs (KIND-KEY), so that a change to any input builds anew and
unchanged inputs reuse what was built."""

import hashlib
import shutil

from . import config
from .run import say


def inputs_key(paths, salt=""):
    """A short hash of salt and of each file's name and content."""
    digest = hashlib.sha256(salt.encode())
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def remove_stale(kind, keep):
    """Remove the other KIND-* builds (their logs stay)."""
    for path in config.CACHE_DIR.glob(f"{kind}-*"):
        if path != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            say(f"removed stale cache {path}")
