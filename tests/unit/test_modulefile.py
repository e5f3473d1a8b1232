"""The notebook environment's Lmod modulefile, with the real Lmod (Debian's `lmod`),
on a published tree laid out as on CVMFS (ROOT/modulefiles, ROOT/envs)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMON = Path(__file__).resolve().parents[2] / "notebook-env" / "modulefiles" / "jupyter" / ".common.lua"
LMOD_INIT = "/usr/share/lmod/lmod/init/bash"


@pytest.fixture
def root(tmp_path):
    """A published tree with versions 1.0 and 2.0, and a modulefile for 3.0 whose
    environment is missing (as when the repository is not mounted)."""
    modules = tmp_path / "modulefiles" / "jupyter"
    modules.mkdir(parents=True)
    (modules / ".common.lua").write_text(COMMON.read_text())
    for version in ("1.0", "2.0", "3.0"):
        (modules / f"{version}.lua").symlink_to(".common.lua")
    for version in ("1.0", "2.0"):
        bin_dir = tmp_path / "envs" / "jupyter" / version / "bin"
        bin_dir.mkdir(parents=True)
        server = bin_dir / "jupyterhub-singleuser"
        server.write_text(f"#!/bin/sh\necho jupyterhub-singleuser from {version}\n")
        server.chmod(0o755)
    return tmp_path


def shell(root, commands):
    """Run commands in a clean login-like bash with Lmod, MODULEPATH set to the tree."""
    script = f"source {LMOD_INIT}\nmodule use {root}/modulefiles\n{commands}\n"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "LANG": "C.UTF-8"}
    return subprocess.run(["bash", "--noprofile", "--norc", "-c", script], env=env,
                          capture_output=True, text=True, timeout=60)


def test_lmod_is_installed():
    assert os.path.exists(LMOD_INIT), "Debian's lmod package is missing (tests/host-packages.txt)"


def test_avail_lists_the_published_versions(root):
    result = shell(root, "module -t avail jupyter 2>&1")
    listed = [line.strip() for line in result.stdout.splitlines() if line.startswith("jupyter/")]
    assert listed == ["jupyter/1.0", "jupyter/2.0", "jupyter/3.0"], result.stdout


def test_load_puts_the_version_first_on_path(root):
    result = shell(root, "module load jupyter/1.0 && jupyterhub-singleuser --version && "
                         "echo PATH=$PATH && echo JUPYTER_PATH=$JUPYTER_PATH")
    assert result.returncode == 0, result.stderr
    assert "jupyterhub-singleuser from 1.0" in result.stdout
    prefix = root / "envs" / "jupyter" / "1.0"
    assert f"PATH={prefix}/bin:" in result.stdout
    assert f"JUPYTER_PATH={prefix}/share/jupyter" in result.stdout


def test_versions_side_by_side_each_gives_its_own(root):
    result = shell(root, "module load jupyter/1.0 && module load jupyter/2.0 && jupyterhub-singleuser "
                         "&& module -t list 2>&1")
    assert result.returncode == 0, result.stderr
    assert "jupyterhub-singleuser from 2.0" in result.stdout
    assert "jupyter/1.0" not in result.stdout and "jupyter/2.0" in result.stdout


def test_missing_environment_stops_with_a_helpful_error(root):
    result = shell(root, "module load jupyter/3.0")
    assert result.returncode != 0
    message = " ".join(result.stderr.split())  # Lmod wraps long lines
    assert "The notebook environment jupyter/3.0 is not available here" in message
    assert f"{root}/envs/jupyter/3.0 does not exist" in message
    assert "probably not mounted" in message


def test_help_and_whatis(root):
    result = shell(root, "module whatis jupyter/1.0 2>&1; module help jupyter/1.0 2>&1")
    assert "Version: 1.0" in result.stdout and "single-user" in result.stdout


def test_the_launcher_runs_in_the_environment_the_module_gives(root, monkeypatch):
    """unchained-singleuser --lmod: the module loads in a login shell with the
    MODULEPATH the job has; the name goes in as an argument."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hub"))
    from unchained_hub import singleuser
    monkeypatch.setenv("MODULEPATH", f"{root}/modulefiles")
    env = singleuser.lmod_environment("jupyter/2.0")
    prefix = root / "envs" / "jupyter" / "2.0"
    assert env["PATH"].startswith(f"{prefix}/bin:")
    assert env["UNCHAINED_JUPYTER_VERSION"] == "2.0"
    assert "SHLVL" not in env and "_" not in env
    with pytest.raises(SystemExit) as stopped:
        singleuser.lmod_environment("jupyter/3.0")
    message = " ".join(str(stopped.value).split())  # Lmod wraps long lines
    assert "could not load the notebook environment (module load jupyter/3.0)" in message
    assert "The notebook environment jupyter/3.0 is not available here" in message
    with pytest.raises(SystemExit) as refused:
        singleuser.lmod_environment('jupyter/1.0"; touch /tmp/x; "')
    assert "is not a module name" in str(refused.value)
