"""A site's own control repo (tests/control-repo) takes in our component
modules with r10k, from git, and brings up the hub with its own Hiera."""

import base64
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest
from hubclient import SMALL, spawn
from labtest import LAB_DIR, wait_for

REPO_DIR = LAB_DIR.parents[1]
MODULES = ("unchained_htcondor", "unchained_hub")
# On the hub: the modules' git repositories, and the site's Puppet environment.
MODULES_GIT = "/root/site-modules-git"
ENVIRONMENTS = "/root/site-environments"
SITE = f"{ENVIRONMENTS}/production"
APPLY = ["puppet", "apply", "--detailed-exitcodes", "--color=false", f"--environmentpath={ENVIRONMENTS}",
         "--environment=production", f"--hiera_config={SITE}/global-hiera.yaml", f"{SITE}/manifests/site.pp"]


def bundle():
    """A tarball (base64) of a bare git repository of each of our modules, as
    this checkout has them, and of the site's control repo."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "lab", "GIT_AUTHOR_EMAIL": "lab@lab.test",
           "GIT_COMMITTER_NAME": "lab", "GIT_COMMITTER_EMAIL": "lab@lab.test"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in MODULES:
            work = tmp / "work" / name
            shutil.copytree(REPO_DIR / "puppet/site-modules" / name, work)
            for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", f"{name}"]):
                subprocess.run(["git", *argv], cwd=work, env=env, check=True)
            subprocess.run(["git", "clone", "-q", "--bare", work, tmp / "git" / f"{name}.git"], env=env, check=True)
        out = io.BytesIO()
        with tarfile.open(fileobj=out, mode="w:gz") as tar:
            tar.add(tmp / "git", arcname="git")
            tar.add(REPO_DIR / "tests/control-repo", arcname="control-repo")
        return base64.b64encode(out.getvalue()).decode()


@pytest.mark.disruptive(5)
def test_a_sites_control_repo_pulls_our_modules_with_r10k_and_brings_up_the_hub(lab, hub, servers):
    lab.exec("hub", "apt-get", "install", "-y", "-q", "r10k", "git", timeout=600)
    lab.exec("hub", "rm", "-rf", MODULES_GIT, ENVIRONMENTS, "/root/.r10k")
    lab.exec("hub", "sh", "-c", f"mkdir -p {ENVIRONMENTS} && base64 -d | tar -xz -C {ENVIRONMENTS} "
             f"&& mv {ENVIRONMENTS}/git {MODULES_GIT} && mv {ENVIRONMENTS}/control-repo {SITE}",
             input=bundle())
    installed = lab.exec("hub", "env", f"UNCHAINED_MODULES_GIT={MODULES_GIT}", "r10k", "puppetfile", "install",
                         "--verbose", f"--puppetfile={SITE}/Puppetfile", f"--moduledir={SITE}/modules", timeout=300)
    for name in MODULES:
        assert lab.exec("hub", "test", "-f", f"{SITE}/modules/{name}/metadata.json", check=False).returncode == 0, \
            installed.stdout + installed.stderr
    try:
        # Take the hub away; the site's control repo brings it back.
        lab.exec("hub", "systemctl", "stop", "jupyterhub")
        lab.exec("hub", "rm", "-f", "/etc/jupyterhub/jupyterhub_config.json", "/etc/sudoers.d/jupyterhub")
        first = lab.exec("hub", *APPLY, check=False, timeout=900)
        log = first.stdout + first.stderr
        assert first.returncode == 2, log
        assert "File[/etc/jupyterhub/jupyterhub_config.json]/ensure:" in log, log  # content is Sensitive: [redacted]
        assert "Service[jupyterhub]/ensure: ensure changed 'stopped' to 'running'" in log, log
        again = lab.exec("hub", *APPLY, check=False, timeout=900)
        assert again.returncode == 0, again.stdout + again.stderr  # converged: a second run changes nothing
        wait_for(lambda: _answers(hub), 60, "the hub to answer")
        spawn(hub, servers, "alice", "site-repo", SMALL)
    finally:
        # The lab's own control repo takes the hub back for the tests after this one.
        restored = lab.labctl("apply", "hub", timeout=900, check=False)
        assert restored.returncode in (0, 2), restored.stdout + restored.stderr


def _answers(hub):
    try:
        return hub.request("GET", "/hub/api/")[0] == 200
    except OSError:
        return False
