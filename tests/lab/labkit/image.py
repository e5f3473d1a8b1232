"""The cached base image and the local apt repository served to the hosts.

Both come from one debootstrap of Debian trixie and are kept under a key made
of everything that goes into them, so a change to the package lists or to
this file builds them anew and an unchanged input reuses them.
"""

import hashlib
import lzma
import os
import shutil
import sys
import time
import urllib.request
from pathlib import Path

from . import cache, config
from .config import LabError
from .run import run, say

BASE_PACKAGES = config.LAB_DIR / "base-packages.txt"
REPO_PACKAGES = config.LAB_DIR / "repo-packages.txt"
SID_PACKAGES = config.LAB_DIR / "sid-packages.txt"
# The wheels the hosts' venvs (puppet/lock-venvs) and the notebook environment
# install, each pinned with its hash.
VENV_DIR = config.REPO_DIR / "puppet/site-modules/unchained_hub/files/venvs"
VENV_LOCKS = tuple(sorted(VENV_DIR.glob("*-cp313-x86_64.txt")))
NOTEBOOK_LOCK = config.REPO_DIR / "notebook-env" / "locks" / "pypi-cp313-x86_64.txt"
LOCKS = (*VENV_LOCKS, NOTEBOOK_LOCK)
INPUTS = (BASE_PACKAGES, REPO_PACKAGES, SID_PACKAGES, *LOCKS, Path(__file__))


def packages(path):
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def cache_key():
    return cache.inputs_key(INPUTS, salt=f"{config.SUITE} {config.MIRROR}\n")


def image_dir():
    return config.CACHE_DIR / f"image-{cache_key()}"


def rootfs():
    return image_dir() / "rootfs"


def apt_repo():
    return image_dir() / "apt"


def wheelhouse():
    return image_dir() / "wheels"


def ensure_image():
    """Build the image unless the cache already holds one for these inputs."""
    target = image_dir()
    if (target / "complete").exists():
        return target
    config.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    building = target.with_name(target.name + ".building")
    log = config.CACHE_DIR / f"{target.name}.log"
    shutil.rmtree(building, ignore_errors=True)
    log.unlink(missing_ok=True)
    say(f"building the base image and apt repository (log: {log})")
    started = time.monotonic()
    _build(building, log)
    building.rename(target)
    (target / "complete").write_text(f"built in {time.monotonic() - started:.0f} s\n")
    cache.remove_stale("image", keep=target)
    say(f"image built in {time.monotonic() - started:.0f} s: {target}")
    return target


def _build(building, log):
    root = building / "rootfs"
    repo = building / "apt"
    repo.mkdir(parents=True)
    run(["debootstrap", "--variant=minbase", "--include=" + ",".join(packages(BASE_PACKAGES)),
         config.SUITE, root, config.MIRROR], log=log, step="debootstrap")

    # Lab hosts are thrown away, so dpkg need not sync each file nor unpack
    # documentation; the first puppet apply spends most of its time in dpkg.
    # (A setting of the lab's image; the Puppet roles leave dpkg alone.)
    (root / "etc/dpkg/dpkg.cfg.d/unchained-lab").write_text(
        "force-unsafe-io\n"
        "path-exclude=/usr/share/doc/*\npath-exclude=/usr/share/man/*\npath-exclude=/usr/share/info/*\n")

    # Fetch the roles' packages and their dependencies beyond the base. The
    # chroot needs a resolver only for this step; hosts get none.
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    chroot = ["chroot", root, "env", "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C"]
    run([*chroot, "apt-get", "update"], log=log, step="apt-get update in the image")
    sid_debs = _download_sid_packages(root / "var/tmp", log)
    run([*chroot, "apt-get", "install", "--download-only", "--no-install-recommends", "-y",
         *packages(REPO_PACKAGES), *(f"/var/tmp/{deb.name}" for deb in sid_debs)],
        log=log, step="downloading the roles' packages")
    for deb in sid_debs:
        shutil.move(deb, repo / deb.name)
    archives = root / "var/cache/apt/archives"
    for deb in archives.glob("*.deb"):
        shutil.move(deb, repo / deb.name)
    with open(repo / "Packages", "w") as f:
        run(["apt-ftparchive", "packages", "."], cwd=repo, stdout=f, step="apt-ftparchive packages")
    with open(repo / "Release", "w") as f:
        run(["apt-ftparchive", "release", "."], cwd=repo, stdout=f, step="apt-ftparchive release")

    _download_wheels(building / "wheels", log)

    run([*chroot, "apt-get", "clean"], log=log, step="apt-get clean")
    for path in (root / "var/lib/apt/lists").glob("*"):
        if path.is_file():
            path.unlink()
    (root / "etc/resolv.conf").write_text("")
    (root / "etc/hostname").unlink(missing_ok=True)
    # Each host gets its own machine id at first boot.
    (root / "etc/machine-id").write_text("")
    # Mark /etc and /var as up to date with /usr, so that hosts do not run
    # ldconfig and catalogue updates on every boot.
    run(["chroot", root, "ldconfig"], log=log, step="ldconfig in the image")
    for stamp in ("etc/.updated", "var/.updated"):
        (root / stamp).write_text("")
    for mountpoint in (config.GUEST_PUPPET_ENV, config.GUEST_HIERA, config.GUEST_SECRETS,
                       config.GUEST_APT, config.GUEST_WHEELS):
        (root / mountpoint.lstrip("/")).mkdir(parents=True, exist_ok=True)


def _download_sid_packages(dest, log):
    """Fetch the .debs of sid-packages.txt (sid's current version of each),
    checked against sid's index; apt then resolves their dependencies from
    trixie."""
    wanted = set(packages(SID_PACKAGES))
    found = {}
    with urllib.request.urlopen(f"{config.MIRROR}/dists/sid/main/binary-amd64/Packages.xz") as response:
        text = lzma.decompress(response.read()).decode()
    for stanza in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")
        if fields.get("Package") in wanted:
            found[fields["Package"]] = fields
    missing = wanted - found.keys()
    if missing:
        raise LabError(f"sid has no package {', '.join(sorted(missing))} (from {SID_PACKAGES.name})")
    debs = []
    for name, fields in sorted(found.items()):
        deb = dest / Path(fields["Filename"]).name
        with open(log, "a") as f:
            f.write(f"taking {name} {fields['Version']} from sid\n")
        with urllib.request.urlopen(f"{config.MIRROR}/{fields['Filename']}") as response:
            deb.write_bytes(response.read())
        if hashlib.sha256(deb.read_bytes()).hexdigest() != fields["SHA256"]:
            raise LabError(f"{deb.name} from sid does not match the SHA256 in sid's index")
        debs.append(deb)
    return debs


def _download_wheels(wheels, log):
    """Fetch binary wheels for the hosts' Python with the host machine's pip,
    which already knows this machine's index, proxy and CA bundle."""
    wheels.mkdir()
    py = config.GUEST_PYTHON
    platforms = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
                 "manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64", "any"]
    download = [sys.executable, "-m", "pip", "download", "--quiet", "--dest", wheels,
                "--only-binary=:all:", "--implementation", "cp", "--python-version", py,
                "--abi", f"cp{py}", "--abi", "abi3", "--abi", "none",
                *[arg for platform in platforms for arg in ("--platform", platform)]]
    # Each lock lists every dependency already, and pip checks their hashes.
    for lock in LOCKS:
        run([*download, "--no-deps", "--require-hashes", "--requirement", lock], log=log,
            step=f"downloading the wheels of {lock.relative_to(config.REPO_DIR)}")


def cache_size():
    total = 0
    for dirpath, _, files in os.walk(config.CACHE_DIR):
        for name in files:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                total += os.lstat(path).st_size
    return total
