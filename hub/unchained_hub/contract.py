"""The contract between the hub and the job, and the checks both sides share.

One `condor_ssh_to_job` session per server carries everything between hub
and job (see `tunnel.py`). What both ends must agree on is spelled here once:

- the job's private directory: `tmp/.unchained` in the job's scratch
  directory, which HTCondor mounts over /tmp for the job's processes, the
  sshd of `condor_ssh_to_job` included (MOUNT_UNDER_SCRATCH): so the hub's
  session reaches it as `SESSION_DIR`, and the job (inside a container too,
  where /tmp is another directory but the scratch directory is bound in)
  as `job_dir()`. In it: the launcher's control socket, the server's socket
  (the far end of the hub's forward) and the hub API's socket (the near end
  of the reverse forward, one name per session: `HUB_API_SOCKET`);
- the launcher's subcommands run through that session (`ATTACH`) or on
  their own (`STOP`), and the lines `ATTACH` answers with (`ANSWER`);
- the ProxyCommand the hub gives ssh (`python -m FDPASS_MODULE`) and the name
  of the user's IDTOKEN (`TOKEN_NAME`).

The hub's sudo rule (puppet: `unchained_hub/templates/jupyterhub.sudoers.epp`)
allows exactly the command lines built from these; `tests/unit/test_sudoers.py`
renders the rule and checks every command line the hub builds against it.

This module is imported on the workers too (by `singleuser.py`): standard
library only. Every pattern is matched whole (`fullmatch`): with `match`,
`$` also accepts a trailing newline.
"""

import os
import re

SESSION_DIR = "/tmp/.unchained"
CONTROL_SOCKET = "control.sock"
SERVER_SOCKET = "jupyter.sock"
HUB_API_SOCKET = re.compile(r"hub-api-[0-9a-f]{16}\.sock")


def job_dir(scratch):
    """The job's private directory, as the job sees it."""
    return os.path.join(scratch, "tmp", ".unchained")


# `attach` takes one JSON line on standard input ({"env": {...}, "hub_api":
# NAME}), starts the server (or finds it running), answers with lines that
# begin with ANSWER, and holds the session until its standard input ends.
# A line "stop" on its standard input stops the server gracefully.
ATTACH = "attach"
STOP = "stop"
ANSWER = "unchained-answer "
FDPASS_MODULE = "unchained_hub.fdpass"
TOKEN_NAME = "unchained-hub"
# The hub's settings for the server that the job's own environment provides.
NOT_SENT = frozenset({"HOME", "USER", "SHELL", "PATH", "LANG"})

# Characters allowed in any string the hub writes into a submit description or
# a command line: enough for absolute paths, module names and version numbers;
# no quotes, spaces, newlines, "$" (macro expansion) or "#" (comments).
SAFE = re.compile(r"[A-Za-z0-9_./:@+=,-]+")
# A local user name the hub acts for; the same rule as puppet's Unchained_hub::Username.
USERNAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# A named server's name, which names its files' directory (`files_dir-NAME`).
# JupyterHub 6 allows less (lower case, digits, '-'); older ones allowed more.
SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def server_files_dir(files_dir, name):
    """A server's files in the home: `files_dir` for the default server,
    `files_dir-NAME` for server NAME, so that no two servers copy the same
    files back over each other. ValueError, for the user, if NAME cannot be."""
    if not name:
        return files_dir
    if not SERVER_NAME.fullmatch(name):
        raise ValueError(f"A server name here is letters, digits, '-' and '_' (at most 64, starting with a "
                         f"letter or digit); {name!r} is not. Choose another name.")
    return f"{files_dir}-{name}"
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
    """The server's settings the hub sends into the job (`ATTACH`)."""
    return {name: value for name, value in env.items() if name not in NOT_SENT}


def check_spawner_settings(args, notebook_dir, environment):
    """JupyterHub's own server settings (`c.Spawner.*`), which work here or are
    refused with what to use instead. `args` follow the server's command in
    the submit description (SAFE words); `default_url`, `debug` and
    `environment` reach the server through the tunnel like every setting of
    the hub's (`settings_for_job`), except the variables the job's own
    environment gives (NOT_SENT). ValueError, for the admin, otherwise."""
    for arg in args:
        safe(arg, "c.Spawner.args: each argument is one word, and")
    if notebook_dir:
        raise ValueError("c.Spawner.notebook_dir has no effect with UnchainedSpawner and is refused: a server's "
                         "root is the directory its job takes along, c.UnchainedSpawner.files_dir (relative "
                         "to the user's home)")
    for name in environment:
        if name in NOT_SENT:
            raise ValueError(f"c.Spawner.environment {name}: the job's own environment gives it and the hub's "
                             "is not sent; set it in the notebook environment (environments[...].environment, "
                             "or its Lmod module)")
