"""The HTCondor pool of the lab: CCB, jobs and tunnels into jobs."""

import re
import time

import pytest
from labtest import LAB_DIR, wait_for

EXECUTE = ("ex1.lab.test", "ex2.lab.test")
SERVER_PORT = 8765
JOB = f"""
executable = /usr/bin/python3
arguments = job_server.py {SERVER_PORT}
transfer_input_files = job_server.py
should_transfer_files = YES
request_cpus = 1
request_memory = 64M
log = job.log
queue
"""


def startd_addresses(lab):
    out = lab.exec("cm", "condor_status", "-startd", "-af", "Machine", "MyAddress", check=False).stdout
    return dict(line.split(None, 1) for line in out.splitlines() if " " in line)


def startds_with_ccb(lab):
    ads = startd_addresses(lab)
    return all("CCBID=" in ads.get(machine, "") for machine in EXECUTE) and ads


def test_both_startds_are_advertised_with_a_ccb_address(lab):
    ads = startd_addresses(lab)
    assert set(ads) == set(EXECUTE)
    for machine, address in ads.items():
        # The CCB is the collector on cm: others reach the startd through it.
        assert re.search(r"CCBID=10\.77\.0\.10:9618", address), (machine, address)


def running_on(lab, job):
    if lab.job_attr(job, "JobStatus") == "2":
        return lab.job_attr(job, "RemoteHost")
    return None


@pytest.fixture
def server_job(lab):
    lab.exec("hub", "tee", "job_server.py", user="alice", input=(LAB_DIR / "guest/job_server.py").read_text())
    job = lab.submit("alice", JOB)
    yield job
    lab.exec("hub", "condor_rm", job, user="alice", check=False)


def test_a_sites_own_knob_reaches_the_slot_ads_of_its_host_only(lab):
    """unchained_htcondor::knobs of ex1 (its node data): written to config.d/90-site.conf,
    after ours, and advertised by ex1's slots; ex2 has none. Both say which
    site they are at (unchained_htcondor::site)."""
    text = lab.exec("ex1", "cat", "/etc/condor/config.d/90-site.conf").stdout
    assert 'LabRack = "r1"' in text and "STARTD_ATTRS = $(STARTD_ATTRS) LabRack" in text, text
    assert lab.exec("ex2", "test", "-e", "/etc/condor/config.d/90-site.conf", check=False).returncode != 0
    lines = lab.exec("hub", "condor_status", "-constraint", "UnchainedDrone =!= true",
                     "-af", "Machine", "LabRack", "UnchainedSite").stdout.splitlines()
    by_host = {line.split()[0]: line.split()[1:] for line in lines}
    assert by_host == {"ex1.lab.test": ["r1", "lab"], "ex2.lab.test": ["undefined", "lab"]}, lines


def test_a_server_in_alices_job_is_reached_from_hub_through_ssh_to_job(lab, server_job):
    # condor_ssh_to_job asks the CCB on cm to have the starter connect back.
    # The user authenticates to it with an IDTOKEN that the local schedd
    # issues to her (she proves who she is to the schedd by FS).
    lab.exec("hub", "condor_token_fetch", "-token", "pool", user="alice")
    slot = wait_for(lambda: running_on(lab, server_job), 30, f"job {server_job} to run")
    worker = slot.split("@", 1)[1]
    assert worker in EXECUTE
    out = lab.exec("hub", "python3", "-", server_job, str(SERVER_PORT), user="alice",
                   input=(LAB_DIR / "guest/tunnel_check.py").read_text(), timeout=90).stdout
    answers = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    short = worker.split(".")[0]
    assert re.fullmatch(rf"hello from {short}\S* as alice over tcp in /var/lib/condor/execute/\S+",
                        answers.get("tcp", "")), out
    assert re.fullmatch(rf"hello from {short}\S* as alice over unix in /var/lib/condor/execute/\S+",
                        answers.get("unix", "")), out


@pytest.mark.disruptive(1)
def test_after_a_collector_restart_the_pool_recovers_and_a_job_starts_within_15_s(lab):
    lab.exec("cm", "systemctl", "restart", "condor")
    restarted = time.monotonic()
    job = lab.submit("bob", "executable = /bin/sleep\narguments = 300\nlog = job.log\nqueue\n")
    try:
        wait_for(lambda: running_on(lab, job), 15, f"job {job} to start after the restart")
        assert time.monotonic() - restarted <= 15
        wait_for(lambda: startds_with_ccb(lab), 15, "both startds back with CCB addresses")
    finally:
        lab.exec("hub", "condor_rm", job, user="bob", check=False)
