"""The hub's sudo rule and the command lines the hub builds can never drift apart.

`puppet/site-modules/profile/templates/jupyterhub.sudoers.epp` is rendered
with Puppet, as `profile::jupyterhub` renders it, and every command line the
hub runs as a user (built by the same code the spawner uses) must be one it
allows; command lines the hub never builds must not be.
"""

import asyncio
import fnmatch
import re
import subprocess
from pathlib import Path

import pytest
from unchained_hub import contract
from unchained_hub.condor import Result, UserCondor
from unchained_hub.tunnel import Tunnel

TEMPLATE = Path(__file__).resolve().parents[2] / "puppet/site-modules/profile/templates/jupyterhub.sudoers.epp"
VENV = "/opt/jupyterhub"
LAUNCHER = "/cvmfs/notebooks.lab.test/envs/jupyter/2026.11/bin/unchained-singleuser"
SOCKET = "/var/lib/condor/execute/dir_4242/.unchained/jupyter.sock"


@pytest.fixture(scope="module")
def rules():
    """(program, arguments) of each command in the rendered rule."""
    values = (f'{{service_user => "jupyterhub", user_group => "jupyterhub-users", '
              f'condor_bin_dir => "/usr/bin", venv => "{VENV}"}}')
    text = subprocess.run(["puppet", "epp", "render", "--values", values, str(TEMPLATE)],
                          capture_output=True, text=True, check=True).stdout
    alias = re.search(r"^Cmnd_Alias UNCHAINED_HUB = (.*?)\n(?!  )", text.replace("\\\n", "\n"),
                      re.MULTILINE | re.DOTALL).group(1)
    commands = [entry.strip() for entry in re.split(r",\s*\n", alias)]
    assert len(commands) == 7, commands
    return [tuple(command.split(" ", 1)) for command in commands]


def allowed(rules, argv):
    """Whether sudo would run argv under these rules: arguments as one string,
    matched by a regular expression (^...$), `""` (none) or a glob."""
    program, args = argv[0], " ".join(argv[1:])
    for rule_program, rule_args in rules:
        if program != rule_program:
            continue
        if rule_args == '""':
            if not args:
                return True
        elif rule_args.startswith("^") and rule_args.endswith("$"):
            if re.search(rule_args, args):
                return True
        elif fnmatch.fnmatchcase(args, rule_args):
            return True
    return False


class Recorder:
    async def __call__(self, argv, stdin=None, timeout=60):
        self.argv = argv
        return Result(0, "5.0 - 5.0\n", "")


def hub_command_lines():
    """Every command line the hub runs as a user, as its own code builds them."""
    recorder = Recorder()
    user = UserCondor("alice", runner=recorder)
    lines = []

    async def record(call):
        await call
        lines.append(recorder.argv)

    async def all_calls():
        await record(user.prepare("/home/alice/jupyter", "/home/alice/.jupyterhub-unchained"))
        await record(user.fetch_token())
        await record(user.submit("queue\n"))
        await record(user.remove(5))
        await record(user.ssh_to_job(5, LAUNCHER, contract.RECEIVE))
        await record(user.ssh_to_job(5, LAUNCHER, contract.STOP))
    asyncio.run(all_calls())
    tunnel = Tunnel(user, 5, SOCKET, 40123, log=None, job_running=None, probe_path="/api",
                    python=f"{VENV}/bin/python3")
    lines.append(tunnel.argv())
    prefix = ["/usr/bin/sudo", "-n", "-H", "-u", "alice", "--"]
    assert all(line[:len(prefix)] == prefix for line in lines), lines
    # kinit at login (auth.py): no arguments, the password on standard input.
    return [line[len(prefix):] for line in lines] + [["/usr/bin/kinit"]]


def test_every_command_line_the_hub_builds_is_allowed(rules):
    for argv in hub_command_lines():
        assert allowed(rules, argv), f"the sudo rule does not allow {argv}"


@pytest.mark.parametrize("argv", [
    ["/usr/bin/condor_rm", "-all"],
    ["/usr/bin/condor_rm", "5", "6"],
    ["/usr/bin/condor_submit", "-terse", "/tmp/evil.sub"],
    ["/usr/bin/condor_ssh_to_job", "5.0", LAUNCHER, "bash"],
    ["/usr/bin/condor_ssh_to_job", "5.0", "/bin/sh", "-c", "id"],
    ["/usr/bin/condor_ssh_to_job", "-ssh", f"{VENV}/bin/python3 -m unchained_hub.tunnel 1 {SOCKET} -oProxyCommand=x",
     "5.0"],
    ["/usr/bin/condor_ssh_to_job", "-ssh", "/usr/bin/ssh", "5.0"],
    ["/usr/bin/condor_token_fetch", "-token", "other"],
    ["/usr/bin/mkdir", "-p", "-m", "0777", "--", "/home/alice/jupyter"],
    ["/usr/bin/mkdir", "-p", "-m", "0700", "--", "relative"],
    ["/usr/bin/kinit", "admin"],
    ["/usr/bin/id"],
])
def test_command_lines_the_hub_never_builds_are_refused(rules, argv):
    assert not allowed(rules, argv)


def test_the_rule_names_the_contract(rules):
    text = " ".join(" ".join(rule) for rule in rules)
    assert f"-token {contract.TOKEN_NAME}" in text
    assert re.escape(contract.TUNNEL_MODULE) in text
    assert f"({contract.RECEIVE}|{contract.STOP})" in text
    assert re.escape(f"/{contract.PRIVATE_DIR}/{contract.SERVER_SOCKET}") in text
