"""Packages reach the hosts only from the host machine: apt repository and wheelhouse."""

import json

import pytest


def test_apt_uses_only_the_local_repository(lab):
    out = lab.exec("hub", "apt-get", "indextargets", "--format", "$(URI)").stdout
    uris = set(out.split())
    assert uris and all(uri.startswith("file:/srv/unchained-lab/apt") for uri in uris), uris


VENVS = {"hub": "/opt/jupyterhub", "ex1": "/opt/unchained/singleuser"}
LAB_WHEELS = ("file:///srv/unchained-lab/wheels/", "file:///srv/unchained-lab/dist/")


def pins(lab, host, venv):
    """{name: (version, sha256)} of the venv's requirements, as Puppet wrote them."""
    result = {}
    for line in lab.exec(host, "cat", f"{venv}/requirements.txt").stdout.splitlines():
        if line and not line.startswith("#"):
            spec, sha = line.split(" --hash=sha256:")
            name, version = spec.split("==")
            result[canonical(name)] = (version, sha)
    return result


def canonical(name):
    return name.lower().replace("_", "-").replace(".", "-")


@pytest.mark.parametrize("host", sorted(VENVS))
def test_every_package_of_a_venv_is_pinned_and_came_from_the_lab(lab, host):
    venv = VENVS[host]
    pinned = pins(lab, host, venv)
    assert "jupyterhub-unchained" in pinned and len(pinned) > 20, pinned
    # Everything installed is what the requirements pin, and nothing else.
    installed = json.loads(lab.exec(host, f"{venv}/bin/pip", "list", "--format", "json").stdout)
    installed = {canonical(item["name"]): item["version"] for item in installed}
    installed.pop("pip", None)  # the venv's own, from Debian's python3-venv
    assert installed == {name: version for name, (version, _) in pinned.items()}
    # pip's report of its last install: every wheel from the lab's own directories,
    # each with the pinned hash. (A fresh lab's report covers every package;
    # a later one only those whose line changed.)
    report = json.loads(lab.exec(host, "cat", f"{venv}/pip-report.json").stdout)["install"]
    assert report
    for item in report:
        url, name = item["download_info"]["url"], canonical(item["metadata"]["name"])
        assert url.startswith(LAB_WHEELS), url
        assert item["download_info"]["archive_info"]["hashes"]["sha256"] == pinned[name][1], item
    print(f"\n{host}: {len(pinned)} pinned packages installed; pip's last install took "
          f"{len(report)} wheels, all from {' or '.join(LAB_WHEELS)}")


SQUATTER = """
import base64, hashlib, sys, zipfile
name, version, out = sys.argv[1:]
files = {"unchained_hub/__init__.py": b"open('/tmp/squatted', 'w').write('squatted')\\n",
         f"jupyterhub_unchained-{version}.dist-info/METADATA":
             f"Metadata-Version: 2.1\\nName: jupyterhub-unchained\\nVersion: {version}\\n".encode(),
         f"jupyterhub_unchained-{version}.dist-info/WHEEL":
             b"Wheel-Version: 1.0\\nGenerator: squatter\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
record = "".join(f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\\n"
                 for p, d in files.items())
with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
    for p, d in files.items():
        z.writestr(p, d)
    z.writestr(f"jupyterhub_unchained-{version}.dist-info/RECORD", record)
"""


def test_a_squatted_jupyterhub_unchained_is_refused(lab):
    """Someone publishes jupyterhub-unchained on an index the hub can reach, at a
    higher version and at the pinned one: pip, as unchained_hub::python_venv runs
    it, installs neither."""
    venv = VENVS["hub"]
    version, _ = pins(lab, "hub", venv)["jupyterhub-unchained"]
    squat = "/root/squatted-index"
    lab.exec("hub", "rm", "-rf", squat, "/tmp/squatted")
    lab.exec("hub", "mkdir", squat)
    for v in (version, "99.0"):
        lab.exec("hub", "python3", "-c", SQUATTER, "jupyterhub_unchained", v, squat)
    result = lab.exec("hub", f"{venv}/bin/pip", "install", "--require-hashes", "--no-deps", "--only-binary=:all:",
                      "--force-reinstall", "--dry-run", "--no-index", "--find-links", "/srv/unchained-lab/wheels",
                      "--find-links", squat, "-r", f"{venv}/requirements.txt", check=False, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "DO NOT MATCH THE HASHES" in out and "jupyterhub_unchained" in out, out
    assert "99.0" not in out.replace(squat, ""), out
    assert lab.exec("hub", "test", "-e", "/tmp/squatted", check=False).returncode != 0
    lab.exec("hub", "rm", "-rf", squat)


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
