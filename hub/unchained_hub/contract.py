"""The contract between the hub and the job, and the checks both sides share.

The hub and the job meet in three places, each spelled here once:

- the job's private directory in its scratch space and the sockets in it
  (`PRIVATE_DIR`, `CONTROL_SOCKET`, `SERVER_SOCKET`), whose path the job
  reports and the hub accepts only if it matches `SOCKET_PATH`;
- the launcher's subcommands that the hub runs in the job through
  `condor_ssh_to_job` (`RECEIVE`, `STOP`), and the tunnel's ssh wrapper that
  `condor_ssh_to_job` runs on the hub (`python -m TUNNEL_MODULE`);
- the name of the user's IDTOKEN (`TOKEN_NAME`).

The hub's sudo rule (puppet: `profile/templates/jupyterhub.sudoers.epp`)
allows exactly the command lines built from these; `tests/unit/test_sudoers.py`
renders the rule and checks every command line the hub builds against it.

This module is imported on the workers too (by `singleuser.py`): standard
library only. Every pattern is matched whole (`fullmatch`): with `match`,
`$` also accepts a trailing newline.
"""

import re

PRIVATE_DIR = ".unchained"
CONTROL_SOCKET = "control.sock"
SERVER_SOCKET = "jupyter.sock"
# A server socket path the job may report: inside an HTCondor scratch directory.
SOCKET_PATH = re.compile(r"/[A-Za-z0-9_./-]{1,90}/" + re.escape(f"{PRIVATE_DIR}/{SERVER_SOCKET}"))

# The launcher's subcommands: `receive` takes the server's settings (JSON on
# standard input) and prints the server socket's path; `stop` stops the server.
RECEIVE = "receive"
STOP = "stop"
TUNNEL_MODULE = "unchained_hub.tunnel"
TOKEN_NAME = "unchained-hub"
# The hub's settings for the server that the job's own environment provides.
NOT_SENT = frozenset({"HOME", "USER", "SHELL", "PATH", "LANG"})

# Characters allowed in any string the hub writes into a submit description or
# a command line: enough for absolute paths, module names and version numbers;
# no quotes, spaces, newlines, "$" (macro expansion) or "#" (comments).
SAFE = re.compile(r"[A-Za-z0-9_./:@+=,-]+")
# A local user name the hub acts for; the same rule as puppet's Profile::Username.
USERNAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# An Lmod module name, `name` or `name/version`.
LMOD_MODULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*(/[A-Za-z0-9][A-Za-z0-9._+-]*)?")


def safe(value, what):
    """`value` if it is a string of `SAFE` characters, else ValueError naming `what`."""
    if not isinstance(value, str) or not SAFE.fullmatch(value):
        raise ValueError(f"{what} {value!r} has characters outside {SAFE.pattern}")
    return value


def is_username(name):
    return isinstance(name, str) and USERNAME.fullmatch(name) is not None


def settings_for_job(env):
    """The server's settings the hub sends into the job (`RECEIVE`)."""
    return {name: value for name, value in env.items() if name not in NOT_SENT}
