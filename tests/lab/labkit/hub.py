"""The lab's JupyterHub as this machine reaches it: through its proxy, over
TLS with a certificate from the lab's CA."""

import time
import urllib.error
import urllib.request

from . import config, tls
from .config import LabError


def url():
    return f"https://{config.host('hub').address}:{config.HUB_PORT}/"


def wait_ready(timeout=120):
    """Wait until JupyterHub answers through its proxy."""
    deadline = time.monotonic() + timeout
    error = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url() + "hub/api/", timeout=5, context=tls.client_context()) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError) as e:
            error = e
        time.sleep(0.5)
    raise LabError(f"JupyterHub did not answer at {url()} within {timeout} s ({error}); "
                   "see `labctl exec hub -- journalctl -u jupyterhub`")
