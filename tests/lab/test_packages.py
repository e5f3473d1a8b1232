"""Packages reach the hosts only from the host machine: apt repository and wheelhouse."""


def test_apt_uses_only_the_local_repository(lab):
    out = lab.exec("hub", "apt-get", "indextargets", "--format", "$(URI)").stdout
    uris = set(out.split())
    assert uris and all(uri.startswith("file:/srv/unchained-lab/apt") for uri in uris), uris


def test_pip_installs_from_the_wheelhouse_without_network(lab):
    venv = "/root/wheelhouse-check"
    lab.exec("hub", "rm", "-rf", venv)
    lab.exec("hub", "python3", "-m", "venv", venv)
    # The same pip command a role would run; /etc/pip.conf (from Hiera) allows
    # only the wheelhouse, and the host has no route to PyPI anyway.
    lab.exec("hub", f"{venv}/bin/pip", "install", "jupyterhub==6.1.1", "batchspawner==1.3.0", timeout=300)
    out = lab.exec("hub", f"{venv}/bin/python", "-c",
                   "import batchspawner, jupyterhub; print(jupyterhub.__version__)").stdout
    assert out.strip() == "6.1.1"
    lab.exec("hub", "rm", "-rf", venv)


def test_pip_refuses_what_the_wheelhouse_lacks(lab):
    result = lab.exec("hub", "python3", "-m", "pip", "download", "--dest", "/tmp", "no-such-package-unchained",
                      check=False)
    assert result.returncode != 0
    assert "No matching distribution found" in result.stderr + result.stdout
