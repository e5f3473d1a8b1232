"""Packages reach the hosts only from the host machine: apt repository and wheelhouse."""

import json

from labtest import LAB_DIR


def test_apt_uses_only_the_local_repository(lab):
    out = lab.exec("hub", "apt-get", "indextargets", "--format", "$(URI)").stdout
    uris = set(out.split())
    assert uris and all(uri.startswith("file:/srv/unchained-lab/apt") for uri in uris), uris


def test_pip_resolves_the_wheelhouse_requirements_without_network(lab):
    # What the hub role will install, resolved with all dependencies by the
    # hosts' pip, which /etc/pip.conf (from Hiera) restricts to the wheelhouse.
    requirements = [line for line in (LAB_DIR / "wheelhouse.txt").read_text().splitlines()
                    if line and not line.startswith("#")]
    out = lab.exec("hub", "python3", "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
                   "--break-system-packages", "--report", "-", *requirements, timeout=300).stdout
    resolved = json.loads(out)["install"]
    names = {item["metadata"]["name"].lower() for item in resolved}
    assert {"jupyterhub", "batchspawner"} <= names and len(names) > 10, names
    for item in resolved:
        assert item["download_info"]["url"].startswith("file:///srv/unchained-lab/wheels/"), item["download_info"]


def test_pip_installs_from_the_wheelhouse(lab):
    target = "/root/wheelhouse-check"
    lab.exec("hub", "rm", "-rf", target)
    # requests and its four dependencies, all from the wheelhouse.
    lab.exec("hub", "python3", "-m", "pip", "install", "--quiet", "--target", target, "requests", timeout=300)
    out = lab.exec("hub", "env", f"PYTHONPATH={target}", "python3", "-c",
                   "import requests, urllib3; print(requests.__file__)").stdout
    assert out.startswith(f"{target}/requests/"), out
    lab.exec("hub", "rm", "-rf", target)


def test_pip_refuses_what_the_wheelhouse_lacks(lab):
    result = lab.exec("hub", "python3", "-m", "pip", "download", "--dest", "/tmp", "no-such-package-unchained",
                      check=False)
    assert result.returncode != 0
    assert "No matching distribution found" in result.stderr + result.stdout
