"""Hosts are configured by puppet apply alone, and a second apply changes nothing."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from labkit import config

HOSTS = [h.name for h in config.HOSTS]
POOL_HOSTS = ["cm", "hub", "ex1", "ex2"]


@pytest.fixture(scope="module")
def second_applies(lab):
    """puppet apply once more on every host, all at once; the result by host."""
    with ThreadPoolExecutor(len(HOSTS)) as pool:
        results = pool.map(lambda host: lab.labctl("apply", host, check=False), HOSTS)
        return dict(zip(HOSTS, results, strict=True))


@pytest.mark.parametrize("host", HOSTS)
def test_a_second_apply_changes_nothing(second_applies, host):
    result = second_applies[host]
    assert result.returncode == 0, result.stdout + result.stderr


def test_unmanaged_htcondor_config_is_purged_and_htcondor_reloaded(lab):
    lab.exec("ex2", "sh", "-c", "echo 'START = False' > /etc/condor/config.d/99-local-edit.conf")
    first = lab.labctl("apply", "ex2", check=False)
    assert first.returncode == 2, first.stdout
    assert "99-local-edit.conf]/ensure: removed" in first.stdout
    assert "Exec[htcondor-reload]: Triggered 'refresh'" in first.stdout
    assert lab.exec("ex2", "test", "-e", "/etc/condor/config.d/99-local-edit.conf", check=False).returncode == 1
    assert lab.labctl("apply", "ex2", check=False).returncode == 0


@pytest.mark.parametrize("host", POOL_HOSTS)
def test_pool_signing_key_is_private(lab, host):
    out = lab.exec(host, "stat", "-c", "%a %U", "/etc/condor/passwords.d/POOL").stdout.split()
    assert out == ["600", "root"]


@pytest.mark.parametrize("user,uid", [("alice", "2001"), ("bob", "2002")])
def test_lab_users_have_the_same_uid_on_hub_and_execute_hosts(lab, user, uid):
    for host in ("hub", "ex1", "ex2"):
        assert lab.exec(host, "id", "-u", user).stdout.strip() == uid, host


def test_up_on_a_converged_lab_returns_within_seconds(lab):
    started = time.monotonic()
    lab.up()
    assert time.monotonic() - started < 20
