"""The job image's login banner (rootfs/etc/profile.d/unchained-banner.sh), sourced
by bash and by dash (Debian's sh) as /etc/profile would, with sample job ads."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

BANNER = Path(__file__).resolve().parents[1] / "rootfs" / "etc" / "profile.d" / "unchained-banner.sh"

# As HTCondor writes it to the file named by $_CONDOR_JOB_AD (abridged).
NORMAL_AD = """\
ClusterId = 12
ProcId = 0
RequestCpus = 4
RequestMemory = 4096
RequestDisk = 10485760
RemoteHost = "slot1_1@ex1.lab.test"
Owner = "alice"
"""
NORMAL_LINE = ("You requested 4 core(s), 4096 MB RAM and 10.0 GB disk space "
               "for this session (HTCondor job 12.0).\n")

SHELLS = [pytest.param("bash", id="bash"),
          pytest.param("sh", id="sh", marks=pytest.mark.skipif(not shutil.which("sh"), reason="no sh"))]


def source_banner(shell, tmp_path, ad_path=None, interactive=True):
    """Source the banner in a clean shell; return (stdout, stderr)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    if ad_path is not None:
        env["_CONDOR_JOB_AD"] = str(ad_path)
    argv = [shell]
    if shell == "bash":
        argv += ["--noprofile", "--norc"]
    if interactive:
        argv.append("-i")
    # The banner's path is passed as $0, not pasted into the script.
    argv += ["-c", '. "$0"; echo "still running"', str(BANNER)]
    result = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=30, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # Sourcing must not stop the shell that sourced it.
    assert result.stdout.endswith("still running\n")
    return result.stdout.removesuffix("still running\n"), result.stderr


def write_ad(tmp_path, text):
    path = tmp_path / ".job.ad"
    path.write_text(text)
    return path


@pytest.mark.parametrize("shell", SHELLS)
def test_normal_ad(shell, tmp_path):
    out, _ = source_banner(shell, tmp_path, write_ad(tmp_path, NORMAL_AD))
    assert out == NORMAL_LINE


@pytest.mark.parametrize("shell", SHELLS)
def test_expression_values_print_unknown_and_are_not_evaluated(shell, tmp_path):
    marker = tmp_path / "evaluated"
    ad = f"""\
ClusterId = 7
ProcId = $(touch {marker})
RequestCpus = `touch {marker}`
RequestMemory = ifthenelse(MemoryUsage =!= undefined,MAX({{ MemoryUsage * 3 / 2,2048 }}),2048)
RequestDisk = DiskUsage
"""
    out, _ = source_banner(shell, tmp_path, write_ad(tmp_path, ad))
    assert out == ("You requested unknown core(s), unknown MB RAM and unknown GB disk space "
                   "for this session (HTCondor job unknown).\n")
    assert not marker.exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_odd_numbers_print_unknown(shell, tmp_path):
    # A leading zero (octal to a shell), a huge number, a negative one.
    ad = "ClusterId = 3\nProcId = 1\nRequestCpus = 08\nRequestMemory = 99999999999999999999\nRequestDisk = -1\n"
    out, _ = source_banner(shell, tmp_path, write_ad(tmp_path, ad))
    assert out == ("You requested unknown core(s), unknown MB RAM and unknown GB disk space "
                   "for this session (HTCondor job 3.1).\n")


@pytest.mark.parametrize("shell", SHELLS)
def test_disk_is_rounded_to_a_tenth_of_a_gb(shell, tmp_path):
    # 1.5 GB and a bit; the last line has no newline.
    ad = "ClusterId = 1\nProcId = 2\nRequestCpus = 1\nRequestMemory = 512\nRequestDisk = 1600000"
    out, _ = source_banner(shell, tmp_path, write_ad(tmp_path, ad))
    assert out == ("You requested 1 core(s), 512 MB RAM and 1.5 GB disk space "
                   "for this session (HTCondor job 1.2).\n")


@pytest.mark.parametrize("shell", SHELLS)
def test_no_ad_prints_nothing(shell, tmp_path):
    assert source_banner(shell, tmp_path)[0] == ""
    assert source_banner(shell, tmp_path, tmp_path / "missing.ad")[0] == ""
    assert source_banner(shell, tmp_path, tmp_path)[0] == ""  # a directory


def test_unreadable_ad_prints_nothing():
    # Root reads any file whatever its mode: as root, drop to nobody for this case,
    # in a directory that nobody can enter (tmp_path's parents are private).
    drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if os.geteuid() == 0 else []
    if drop and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp).chmod(0o755)
        banner = Path(tmp) / BANNER.name
        shutil.copyfile(BANNER, banner)
        ad = Path(tmp) / ".job.ad"
        ad.write_text(NORMAL_AD)
        ad.chmod(0)
        result = subprocess.run([*drop, "bash", "--noprofile", "--norc", "-i", "-c", '. "$0"', str(banner)],
                                env={"PATH": "/usr/bin:/bin", "_CONDOR_JOB_AD": str(ad)},
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, cwd="/")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("shell", SHELLS)
def test_non_interactive_shell_prints_nothing(shell, tmp_path):
    out, err = source_banner(shell, tmp_path, write_ad(tmp_path, NORMAL_AD), interactive=False)
    assert out == ""
    assert err == ""


def test_leaves_no_variables_or_functions_behind(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "_CONDOR_JOB_AD": str(write_ad(tmp_path, NORMAL_AD))}
    result = subprocess.run(["bash", "--noprofile", "--norc", "-i", "-c", '. "$0"; set; declare -F', str(BANNER)],
                            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    leftovers = [line for line in result.stdout.splitlines()
                 if line.startswith(("_ub_", "_unchained")) or "_unchained_banner" in line.split(" ")[-1]]
    assert leftovers == []
