"""The hub's proxy, configurable-http-proxy from the npm registry, for hosts
that cannot reach it.

Only configurable-http-proxy 5 and later route to Unix-socket targets
(`http+unix://`); Debian's package is 4.5. The lab hosts have no route to the
registry, so the host machine's npm installs the tree pinned in `tests/lab/npm`
(package.json and package-lock.json: every transitive package by version and
integrity hash) with `npm ci`, packs it as one tarball, and every host sees it
read-only at config.GUEST_NPM. Puppet unpacks it there (`unchained_hub`'s
`proxy_source`), as an offline site does with a tarball it made the same way.

The tarball is cached under the lab's cache directory, keyed on the pin files
and this file: a new pin builds a new one and removes the old.
"""

import json
import shutil
import time

from . import cache, config
from .config import LabError
from .run import run, say

NPM_DIR = config.LAB_DIR / "npm"
PACKAGE_JSON = NPM_DIR / "package.json"
PACKAGE_LOCK = NPM_DIR / "package-lock.json"
INPUTS = (PACKAGE_JSON, PACKAGE_LOCK, config.LAB_DIR / "labkit" / "npm.py")

PACKAGE = "configurable-http-proxy"
# The file in config.GUEST_NPM that the lab's Hiera names.
TARBALL = f"{PACKAGE}.tar.gz"


def pinned_version():
    """The version package.json pins (exactly: the lock must not float)."""
    version = json.loads(PACKAGE_JSON.read_text())["dependencies"][PACKAGE]
    if not version[:1].isdigit():
        raise LabError(f"{PACKAGE_JSON} must pin an exact version of {PACKAGE}, not {version!r}")
    return version


def cache_key():
    return cache.inputs_key(INPUTS)


def cache_dir():
    return config.CACHE_DIR / f"npm-{cache_key()}"


def ensure_proxy():
    """Build the proxy's tarball unless the cache holds one for these pins;
    return the directory the hosts see at config.GUEST_NPM."""
    target = cache_dir()
    if (target / "complete").exists():
        return target
    if shutil.which("npm") is None:
        raise LabError("the host machine has no npm, which installs the hub's proxy for the lab: "
                       "install Debian's npm (tests/host-packages.txt)")
    config.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    building = target.with_name(target.name + ".building")
    log = config.CACHE_DIR / f"{target.name}.log"
    shutil.rmtree(building, ignore_errors=True)
    log.unlink(missing_ok=True)
    version = pinned_version()
    say(f"installing {PACKAGE} {version} from the npm registry for the lab (log: {log})")
    started = time.monotonic()
    _build(building, version, log)
    building.rename(target)
    (target / "complete").write_text(f"{PACKAGE} {version}, built in {time.monotonic() - started:.0f} s\n")
    cache.remove_stale("npm", keep=target)
    return target


def _build(building, version, log):
    tree = building / "tree"
    tree.mkdir(parents=True)
    for path in (PACKAGE_JSON, PACKAGE_LOCK):
        shutil.copy(path, tree / path.name)
    # npm ci installs exactly the lock (and fails if package.json disagrees
    # with it); no install scripts: the tree is pure JavaScript, and root runs this.
    run(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", tree],
        cwd=tree, log=log, step=f"npm ci of {PACKAGE}")
    installed = json.loads((tree / "node_modules" / PACKAGE / "package.json").read_text())["version"]
    if installed != version:
        raise LabError(f"npm ci installed {PACKAGE} {installed}, not the pinned {version}; log: {log}")
    if not (tree / "node_modules" / ".bin" / PACKAGE).exists():
        raise LabError(f"npm ci installed no node_modules/.bin/{PACKAGE}; log: {log}")
    # Owned by root whoever unpacks it, in a stable order.
    run(["tar", "--create", "--gzip", "--file", building / TARBALL, "--directory", tree,
         "--owner=0", "--group=0", "--numeric-owner", "--sort=name", "."],
        log=log, step=f"packing {PACKAGE}")
    shutil.rmtree(tree)
