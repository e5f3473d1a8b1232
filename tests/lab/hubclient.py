"""A small JupyterHub REST API client for the lab tests (standard library only)."""

import json
import threading
import time
import urllib.error
import urllib.request

from labkit.tls import client_context
from labtest import wait_for


class Hub:
    def __init__(self, url, token):
        self.url = url.rstrip("/")
        self.token = token

    def request(self, method, path, body=None, timeout=30, token=None):
        """(status, parsed JSON or text) of one request; HTTP errors are answers too."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {token or self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=client_context()) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        text = raw.decode(errors="replace")
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    @staticmethod
    def server_path(user, server=""):
        return f"/hub/api/users/{user}/servers/{server}" if server else f"/hub/api/users/{user}/server"

    def start(self, user, server="", options=None):
        return self.request("POST", self.server_path(user, server), options or {})

    def server(self, user, server=""):
        status, model = self.request("GET", f"/hub/api/users/{user}")
        assert status == 200, (status, model)
        return (model.get("servers") or {}).get(server)

    def wait_ready(self, user, server="", timeout=120):
        """Seconds until the server is ready; fails with the hub's last word."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            s = self.server(user, server)
            if s and s.get("ready"):
                return time.monotonic() - started
            if s is None and time.monotonic() - started > 2:
                raise AssertionError(f"{user}/{server} is not starting any more (spawn failed?)")
            time.sleep(0.1)
        raise AssertionError(f"{user}/{server} not ready within {timeout} s: {self.server(user, server)}")

    def stop(self, user, server="", timeout=120):
        status, body = self.request("DELETE", self.server_path(user, server), timeout=timeout)
        assert status in (202, 204), (status, body)
        started = time.monotonic()
        while self.server(user, server) is not None:
            assert time.monotonic() - started < timeout, f"{user}/{server} did not stop"
            time.sleep(0.2)

    def progress(self, user, server="", timeout=120, until=None):
        """The spawn page's events (the same stream the browser reads), until ready or
        failed, or until `until(events)` is true, or the timeout."""
        path = (f"/hub/api/users/{user}/servers/{server}/progress" if server
                else f"/hub/api/users/{user}/server/progress")
        req = urllib.request.Request(self.url + path)
        req.add_header("Authorization", f"token {self.token}")
        events = []
        deadline = time.monotonic() + timeout
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=client_context()) as stream:
                for line in stream:
                    line = line.decode().strip()
                    if line.startswith("data:"):
                        event = json.loads(line[5:])
                        events.append(event)
                        if event.get("ready") or event.get("failed") or (until and until(events)):
                            break
                    if time.monotonic() > deadline:
                        break
        except TimeoutError:
            pass
        return events

    def user_api(self, user, path, server="", method="GET", body=None, timeout=10):
        """A request to the user's own server, through the proxy."""
        prefix = f"/user/{user}/{server}/" if server else f"/user/{user}/"
        return self.request(method, prefix + path.lstrip("/"), body, timeout=timeout)


# -- helpers of the hub tests --------------------------------------------------

# A light server: what the tests start unless they need something else.
SMALL = {"cpus": 1, "memory_gb": 0.5, "disk_gb": 1, "runtime_hours": 1}


def spawn(hub, servers, user, name="", options=None):
    """Start a server (noted in `servers` for clean-up); seconds from POST to ready."""
    servers.append((user, name))
    started = time.monotonic()
    status, body = hub.start(user, name, options if options is not None else SMALL)
    assert status in (201, 202), (status, body)
    hub.wait_ready(user, name)
    return time.monotonic() - started


def job_of(hub, user, name=""):
    """The spawner's state of a server: its job, socket path and tunnel port."""
    state = (hub.server(user, name) or {}).get("state") or {}
    assert state.get("cluster"), f"no job in {user}/{name}'s state: {state}"
    return state


def jobs_of(lab, owner):
    """Cluster ids of the owner's jobs in the hub's queue."""
    return [int(c) for c in _owner_query(lab, owner).stdout.split()]


def _owner_query(lab, owner, check=True):
    return lab.exec("hub", "condor_q", "-all", "-constraint", f'Owner == "{owner}"', "-af", "ClusterId",
                    check=check)


def left_queue(lab, owner, clusters):
    """Whether none of `clusters` is in the owner's queue any more; False while
    the schedd does not answer. After a schedd restart, its first RESCHEDULE
    to the negotiator must authenticate, which it does blocking: if that meets
    a negotiation cycle with this schedd, each waits for the other until the
    schedd's 20 s authentication deadline, and no query is answered meanwhile."""
    out = _owner_query(lab, owner, check=False)
    if out.returncode != 0:
        return False
    return not set(clusters) & {int(c) for c in out.stdout.split()}


def start_in_background(hub, servers, user, name, options):
    """POST the start (which blocks up to 10 s) in a thread; return its result holder."""
    servers.append((user, name))
    result = {}
    thread = threading.Thread(target=lambda: result.update(answer=hub.start(user, name, options)),
                              daemon=True)
    thread.start()
    wait_for(lambda: (hub.server(user, name) or {}).get("pending") or result, 10, "the spawn to begin",
             interval=0.05)
    return result
