"""Lab hosts: systemd-nspawn containers, each on an overlay of the base image."""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from . import cgroups, config, dist, image, jobimage, network, npm
from .config import LabError
from .run import run, say

GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Machine:
    """One lab host and its files under STATE_DIR/hosts/NAME."""

    def __init__(self, host):
        self.host = host
        self.dir = config.STATE_DIR / "hosts" / host.name
        self.root = self.dir / "root"
        self.upper = self.dir / "upper"
        self.work = self.dir / "work"
        self.pidfile = self.dir / "nspawn.pid"
        self.console_log = self.dir / "console.log"
        self.converged = self.dir / "converged"

    # -- state ---------------------------------------------------------

    def nspawn_pid(self):
        try:
            pid = int(self.pidfile.read_text())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            return None
        return pid if b"systemd-nspawn" in cmdline else None

    def init_pid(self):
        """PID (on the host machine) of the container's systemd, or None."""
        pid = self.nspawn_pid()
        if pid is None:
            return None
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:
            return None
        return int(children[0]) if children else None

    def is_running(self):
        return self.init_pid() is not None

    def is_mounted(self):
        return os.path.ismount(self.root)

    def _mount_options(self):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            fields = line.split()
            if fields[1] == str(self.root):
                return fields[3]
        return ""

    # -- life cycle ----------------------------------------------------

    def boot(self, secrets_dir):
        """Mount the overlay and start systemd-nspawn in the host's namespace."""
        for d in (self.upper, self.work, self.root):
            d.mkdir(parents=True, exist_ok=True)
        if self.is_mounted() and f"lowerdir={image.rootfs()}," not in self._mount_options():
            # Left over from a lab on another image (whose files may be gone).
            run(["umount", self.root], step=f"unmounting {self.host.name}'s stale overlay")
        if not self.is_mounted():
            run(["mount", "-t", "overlay", "overlay", "-o",
                 f"lowerdir={image.rootfs()},upperdir={self.upper},workdir={self.work}", self.root],
                step=f"overlay for {self.host.name}")
        (self.root / "etc/hosts").write_text(network.hosts_file())
        (self.root / "etc/hostname").write_text(self.host.fqdn + "\n")
        self.converged.unlink(missing_ok=True)

        binds = (
            (config.REPO_DIR / "puppet", config.GUEST_PUPPET_ENV),
            (config.LAB_DIR / "hiera", config.GUEST_HIERA),
            (secrets_dir, config.GUEST_SECRETS),
            (image.apt_repo(), config.GUEST_APT),
            (image.wheelhouse(), config.GUEST_WHEELS),
            (dist.dist_dir(), config.GUEST_DIST),
            (npm.cache_dir(), config.GUEST_NPM),
        )
        argv = ["systemd-nspawn", "--boot", "--directory", self.root, "--machine", self.host.name,
                "--hostname", self.host.fqdn, "--register=no", "--keep-unit", "--console=passive",
                f"--network-namespace-path=/run/netns/{self.host.netns}"]
        argv += [f"--bind-ro={src}:{dst}" for src, dst in binds]
        argv += self._role_binds()
        env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1")
        cgroup = cgroups.host_cgroup(self.host.name)
        with open(self.console_log, "a") as log:
            proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                    preexec_fn=lambda: cgroups.join(cgroup))
        self.pidfile.write_text(str(proc.pid))

    def _role_binds(self):
        """The CVMFS stand-in: the publisher writes the repository's storage,
        execute hosts mount the published tree read-only at /cvmfs/REPO, and
        the job image."""
        storage = config.cvmfs_storage()
        if self.host.name == config.PUBLISHER:
            return [f"--bind-ro={config.REPO_DIR}:{config.GUEST_SOURCE}",
                    f"--bind={storage}:{config.GUEST_CVMFS_STORAGE}"]
        if self.host.runs_jobs:
            return [f"--bind-ro={storage / config.CVMFS_REPO}:/cvmfs/{config.CVMFS_REPO}",
                    f"--bind-ro={jobimage.sandbox()}:{config.GUEST_JOB_IMAGE}"]
        return []

    def wait_booted(self, timeout=60):
        deadline = time.monotonic() + timeout
        state = "not started"
        while time.monotonic() < deadline:
            if self.nspawn_pid() is None:
                raise LabError(f"{self.host.name} did not boot; console log: {self.console_log}")
            if self.init_pid() is not None:
                result = self.exec(["systemctl", "is-system-running"], capture=True)
                state = result.stdout.strip()
                if state == "degraded":
                    self._retry_units_that_could_not_spawn()
                    state = self.exec(["systemctl", "is-system-running"], capture=True).stdout.strip()
                if state in ("running", "degraded"):
                    return state
            time.sleep(0.2)
        raise LabError(f"{self.host.name} still '{state}' after {timeout} s; console log: {self.console_log}")

    def _retry_units_that_could_not_spawn(self):
        # On hosts with cgroup v1 (like the CI machine) systemd in a lab host
        # now and then fails to start a boot unit with "Failed to spawn
        # executor: No such file or directory" (result 'resources'), before
        # the unit ran at all. Starting it again works; other failures stay.
        failed = self.exec(["systemctl", "list-units", "--failed", "--plain", "--no-legend", "--no-pager"],
                           capture=True).stdout.split("\n")
        for unit in (line.split()[0] for line in failed if line.strip()):
            result = self.exec(["systemctl", "show", "--property=Result", "--value", unit], capture=True)
            if result.stdout.strip() == "resources":
                say(f"{self.host.name}: {unit} could not be spawned at boot; starting it again")
                self.exec(["systemctl", "reset-failed", unit], capture=True)
                self.exec(["systemctl", "start", unit], capture=True)

    def exec(self, argv, *, user=None, capture=False, check=False, input=None, timeout=None):
        """Run argv inside the host as root, or as `user` with a login's environment."""
        pid = self.init_pid()
        if pid is None:
            raise LabError(f"{self.host.name} is not running; start the lab with `labctl up`")
        home = "/root" if user is None else f"/home/{user}"
        cmd = ["nsenter", "--target", str(pid), "--all", "--",
               "env", "-i", f"PATH={GUEST_PATH}", "LANG=C.UTF-8", f"HOME={home}"]
        if user is not None:
            cmd += [f"USER={user}", f"LOGNAME={user}", "runuser", "-u", user, "--",
                    "env", "-C", home]
        cmd += [str(a) for a in argv]
        result = subprocess.run(cmd, capture_output=capture, text=True, input=input, timeout=timeout)
        if check and result.returncode != 0:
            detail = f":\n{result.stdout}{result.stderr}" if capture else ""
            raise LabError(f"`{' '.join(map(str, argv))}` on {self.host.name} failed "
                           f"(exit {result.returncode}){detail}")
        return result

    def shut_down(self, timeout=45):
        """Power the host off cleanly; force it only if that does not work."""
        pid = self.nspawn_pid()
        if pid is not None:
            init = self.init_pid()
            if init is not None:
                self.exec(["systemctl", "poweroff"], capture=True)
            if not _wait_gone(pid, timeout):
                # Two SIGTERMs make nspawn stop its container at once.
                for _ in range(2):
                    _kill(pid, signal.SIGTERM)
                    time.sleep(0.5)
                if not _wait_gone(pid, 10):
                    if init is not None:
                        _kill(init, signal.SIGKILL)
                    _kill(pid, signal.SIGKILL)
                    _wait_gone(pid, 10)
        self.pidfile.unlink(missing_ok=True)
        cgroups.remove(self.host.name)
        if self.is_mounted():
            run(["umount", self.root], step=f"unmounting {self.host.name}")

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _alive(pid):
    """True while pid runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        # Reap it if it is our child (it is not when another labctl started it).
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
