"""The lab's pin of the hub's proxy (tests/lab/npm) and the places that must
agree with it: the lock, labkit/npm.py and the lab's Hiera. (That Puppet
installs the pinned version is in tests/puppet, hub_spec.rb.)"""

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "lab"))

from labkit import config, npm  # noqa: E402 (after the path above)


def test_package_json_pins_one_exact_version_and_the_lock_agrees():
    package = json.loads(npm.PACKAGE_JSON.read_text())
    lock = json.loads(npm.PACKAGE_LOCK.read_text())
    version = npm.pinned_version()
    assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", version)
    assert lock["packages"][""]["dependencies"] == package["dependencies"]
    assert lock["packages"][f"node_modules/{npm.PACKAGE}"]["version"] == version
    # Every package of the tree is pinned by its hash, so npm ci installs
    # exactly what was locked.
    tree = {name: entry for name, entry in lock["packages"].items() if name}
    assert tree and all(entry.get("integrity", "").startswith("sha512-") for entry in tree.values())


def test_a_floating_pin_is_refused(tmp_path, monkeypatch):
    floating = tmp_path / "package.json"
    floating.write_text(json.dumps({"dependencies": {npm.PACKAGE: "^5.3.0"}}))
    monkeypatch.setattr(npm, "PACKAGE_JSON", floating)
    with pytest.raises(config.LabError, match="exact version"):
        npm.pinned_version()


def test_the_lab_hub_unpacks_the_tarball_labctl_builds():
    hiera = yaml.safe_load((config.LAB_DIR / "hiera" / "nodes" / "hub.lab.test.yaml").read_text())
    assert hiera["unchained_hub::proxy_source"] == f"{config.GUEST_NPM}/{npm.TARBALL}"


def test_the_cache_key_follows_the_lock(tmp_path, monkeypatch):
    copies = []
    for path in npm.INPUTS:
        copy = tmp_path / path.name
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    monkeypatch.setattr(npm, "INPUTS", tuple(copies))
    before = npm.cache_key()
    lock = tmp_path / "package-lock.json"
    lock.write_text(lock.read_text() + "\n")
    assert npm.cache_key() != before
