"""The hub's sudo rule and the command lines the hub builds can never drift apart.

`puppet/site-modules/unchained_hub/templates/jupyterhub.sudoers.epp` is rendered
with Puppet, as `unchained_hub` renders it, checked by visudo, and every
command line the hub runs as a user (built by the same code the spawner uses)
must be one it allows; command lines the hub never builds must not be.
"""

import asyncio
import fnmatch
import re
import subprocess
from pathlib import Path

import pytest
from unchained_hub import contract, tickets
from unchained_hub.condor import Result, UserCondor
from unchained_hub.tunnel import Tunnel, endpoint

TEMPLATE = Path(__file__).resolve().parents[2] / "puppet/site-modules/unchained_hub/templates/jupyterhub.sudoers.epp"
VENV = "/opt/jupyterhub"
LAUNCHER = "/cvmfs/notebooks.lab.test/envs/jupyter/2026.11/bin/unchained-singleuser"
ENDPOINT = endpoint("/run/jupyterhub/tunnels", "alice", 42)
HUB_API_SOCKET = "hub-api-0123456789abcdef.sock"


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """(program, arguments) of each command in the rendered rule."""
    values = (f'{{service_user => "jupyterhub", user_group => "jupyterhub-users", '
              f'condor_bin_dir => "/usr/bin", venv => "{VENV}"}}')
    text = subprocess.run(["puppet", "epp", "render", "--values", values, str(TEMPLATE)],
                          capture_output=True, text=True, check=True).stdout
    rendered = tmp_path_factory.mktemp("sudoers") / "jupyterhub"
    rendered.write_text(text)
    checked = subprocess.run(["visudo", "-cf", str(rendered)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    alias = re.search(r"^Cmnd_Alias UNCHAINED_HUB = (.*?)\n(?!  )", text.replace("\\\n", "\n"),
                      re.MULTILINE | re.DOTALL).group(1)
    commands = [entry.strip() for entry in re.split(r",\s*\n", alias)]
    assert len(commands) == 11, commands
    # sudo reads "\=", "\:" and "\," in arguments as the characters themselves.
    return [(program, re.sub(r"\\([=:,])", r"\1", args))
            for program, args in (command.split(" ", 1) for command in commands)]


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


def tunnel_argv(user):
    tunnel = Tunnel(user, 42, launcher=LAUNCHER, endpoint=ENDPOINT, uid=1001, settings={}, hub_api="127.0.0.1:8081",
                    log=None, job_running=None, probe_path="/api", python=f"{VENV}/bin/python3")
    return tunnel.argv(HUB_API_SOCKET)


# The words condor_ssh_to_job runs as ssh in a server's tunnel.
TUNNEL_ARGV = tunnel_argv(UserCondor("alice"))
TUNNEL_SSH = TUNNEL_ARGV[TUNNEL_ARGV.index("-ssh") + 1]


class Recorder:
    async def __call__(self, argv, stdin=None, timeout=60, limit=None):
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
        await record(user.remove(5, force=True))
        await record(user.hold(5))
        await record(user.error_output("/home/alice/.jupyterhub-unchained/job-5.err"))
        await record(user.ssh_to_job(5, LAUNCHER, contract.STOP))
    asyncio.run(all_calls())
    lines.append(tunnel_argv(user))
    prefix = ["/usr/bin/sudo", "-n", "-H", "-u", "alice", "--"]
    assert all(line[:len(prefix)] == prefix for line in lines), lines
    return [line[len(prefix):] for line in lines] + kinit_command_lines()


def kinit_command_lines():
    """kinit at login (auth.py: no arguments, the password on standard input)
    and its renewal (tickets.py), as the hub builds them."""
    lines = []

    async def run(argv, stdin, timeout, limit):
        lines.append(argv)
        return 0, b"", b""

    async def all_calls():
        await tickets.kinit_as("alice", stdin="password\n", run=run)
        await tickets.TicketRenewer(interval=60, log=None, run=run).renew("alice")
    asyncio.run(all_calls())
    prefix = ["sudo", "-n", "-u", "alice", "--"]
    assert all(line[:len(prefix)] == prefix for line in lines), lines
    return [line[len(prefix):] for line in lines]


def test_every_command_line_the_hub_builds_is_allowed(rules):
    for argv in hub_command_lines():
        assert allowed(rules, argv), f"the sudo rule does not allow {argv}"


@pytest.mark.parametrize("argv", [
    ["/usr/bin/condor_rm", "-all"],
    ["/usr/bin/condor_rm", "5", "6"],
    ["/usr/bin/condor_rm", "-forcex", "-all"],
    ["/usr/bin/condor_hold", "-all"],
    ["/usr/bin/tail", "-c", "4096", "--", "/etc/shadow"],
    ["/usr/bin/tail", "-f", "/home/alice/.jupyterhub-unchained/job-5.err"],
    ["/usr/bin/tail", "-c", "99999999", "--", "/home/alice/.jupyterhub-unchained/job-5.err"],
    ["/usr/bin/condor_hold", "-constraint", "true"],
    ["/usr/bin/condor_vacate_job", "5"],
    ["/usr/bin/condor_submit", "-terse", "/tmp/evil.sub"],
    ["/usr/bin/condor_ssh_to_job", "5.0", LAUNCHER, "bash"],
    ["/usr/bin/condor_ssh_to_job", "5.0", LAUNCHER, "receive"],
    ["/usr/bin/condor_ssh_to_job", "5.0", "/bin/sh", "-c", "id"],
    ["/usr/bin/condor_ssh_to_job", "-ssh", "/usr/bin/ssh", "5.0"],
    ["/usr/bin/condor_ssh_to_job", "-ssh", "ssh -oProxyCommand=/bin/sh", "5.0", LAUNCHER, "attach"],
    # The tunnel's command line with a forward to anywhere but the job's server socket:
    *[["/usr/bin/condor_ssh_to_job", "-ssh", TUNNEL_SSH.replace(a, b), "42.0", LAUNCHER, "attach"]
      for a, b in ((":/tmp/.unchained/jupyter.sock", ":/etc/shadow"), ("-R /tmp/.unchained/hub-api", "-R /tmp/x"),
                   ("-oBatchMode=yes", "-oBatchMode=yes -oLocalCommand=id"),
                   ("-m unchained_hub.fdpass", "-m os"))],
    ["/usr/bin/condor_token_fetch", "-token", "other"],
    ["/usr/bin/mkdir", "-p", "-m", "0777", "--", "/home/alice/jupyter"],
    ["/usr/bin/mkdir", "-p", "-m", "0700", "--", "relative"],
    ["/usr/bin/kinit", "admin"],
    ["/usr/bin/kinit", "-R", "admin"],
    ["/usr/bin/kinit", "-R", "-c", "/tmp/krb5cc_2001"],
    ["/usr/bin/id"],
])
def test_command_lines_the_hub_never_builds_are_refused(rules, argv):
    assert not allowed(rules, argv)


def test_the_rule_names_the_contract(rules):
    text = " ".join(" ".join(rule) for rule in rules)
    assert f"-token {contract.TOKEN_NAME}" in text
    assert re.escape(contract.FDPASS_MODULE) in text
    assert f"unchained-singleuser {contract.STOP}$" in text and f"unchained-singleuser {contract.ATTACH}$" in text
    assert f":{re.escape(contract.SESSION_DIR + '/' + contract.SERVER_SOCKET)} " in text
