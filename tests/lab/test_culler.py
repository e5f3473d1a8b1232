"""The idle culler (unchained_hub::idle_culler): a service the hub runs,
with scopes for frank's servers only (hiera/nodes/hub.lab.test.yaml), which
stops a server idle for 60 s the way a user's stop does."""

import time

from hubclient import SMALL, job_of, left_queue, spawn
from labtest import kinit, wait_for


def test_an_idle_server_is_culled_its_job_gone_and_its_files_home(lab, hub, servers):
    kinit(lab, "frank")
    lab.exec("hub", "rm", "-rf", "jupyter", user="frank")
    spawn(hub, servers, "alice", "not-culled", SMALL)
    spawn(hub, servers, "frank", options=SMALL)
    started = time.monotonic()
    cluster = job_of(hub, "frank")["cluster"]
    status, _ = hub.user_api("frank", "api/contents/idle.txt", method="PUT",
                             body={"type": "file", "format": "text", "content": "kept\n"})
    assert status in (200, 201)
    wait_for(lambda: hub.server("frank") is None, 180, "the culler to stop frank's idle server", interval=1)
    culled = time.monotonic() - started
    print(f"\nfrank's idle server stopped by the culler {culled:.1f} s after it was ready (timeout 60 s, every 10 s)")
    assert culled >= 55, "stopped before it had been idle for the culler's timeout"
    wait_for(lambda: left_queue(lab, "frank", [cluster]), 60, "frank's job to leave the queue", interval=1)
    assert lab.exec("hub", "cat", "jupyter/idle.txt", user="frank").stdout == "kept\n"
    log = lab.exec("hub", "journalctl", "-u", "jupyterhub", "--no-pager", "-q", "--since", "-5min").stdout
    assert "Culling server frank" in log, log[-3000:]
    # The culler's scopes cover frank's servers only: alice's, idle as long, runs on.
    assert hub.server("alice", "not-culled")["ready"]
    assert "Culling server alice" not in log
