"""Looking for a secret on the lab's hosts while it is in use, not only after.

`Sampler` runs `guest/secret_sampler.py` on a host from before the secret
exists until after its use, sampling every process's command line and
environment about 90 times a second; `files_holding` and `journal_holds`
look in files and in journald.
"""

import json
import subprocess

from labtest import LAB_DIR, LABCTL

# Where a secret must not be written, on any host: logs, HTCondor's state
# (the job's sandbox is under /var/lib/condor/execute), homes, the hub's
# state, and the runtime and temporary directories.
PLACES = ("/var/log", "/var/lib/condor", "/home", "/var/lib/jupyterhub", "/tmp", "/var/tmp", "/run", "/dev/shm")


class Sampler:
    """The sampler on `host`, sampling from the moment this returns."""

    def __init__(self, host):
        self.host = host
        source = (LAB_DIR / "guest" / "secret_sampler.py").read_text()
        self.proc = subprocess.Popen([str(LABCTL), "exec", host, "--", "python3", "-c", source],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        if first.strip() != "sampling":
            self.proc.kill()
            raise AssertionError(f"the secret sampler on {host} did not start: {first!r}")

    def finish(self, secret):
        """Stop sampling; what it saw: samples, seconds, processes, and the
        hits (each process whose command line or environment held `secret`)."""
        out, _ = self.proc.communicate(json.dumps({"secret": secret}) + "\n", timeout=120)
        assert self.proc.returncode == 0, f"the secret sampler on {self.host} failed: {out[-2000:]}"
        report = json.loads(out)
        # Several times a second, or it proves little.
        assert report["samples"] >= 5 * report["seconds"], (self.host, report["samples"], report["seconds"])
        return report

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def files_holding(lab, host, secret, places=PLACES):
    """Files under `places` on `host` that hold `secret` (devices, FIFOs and
    sockets skipped; the secret comes on grep's standard input, not its
    command line)."""
    present = lab.exec(host, "ls", "-d", "--", *places, check=False).stdout.split()
    found = lab.exec(host, "grep", "-rlF", "-D", "skip", "-f", "/dev/stdin", "--", *present,
                     input=secret + "\n", check=False)
    assert found.returncode in (0, 1), f"grep on {host} failed: {found.stderr[-2000:]}"
    return found.stdout.split()


def journal_holds(lab, host, secret):
    """Whether any message in `host`'s journal holds `secret`."""
    found = lab.exec(host, "sh", "-c", "journalctl --no-pager -q -o cat | grep -cF -f /dev/stdin",
                     input=secret + "\n", check=False)
    assert found.returncode in (0, 1), f"journalctl on {host} failed: {found.stderr[-2000:]}"
    return found.returncode == 0
