"""labctl: build, boot, configure and tear down the site lab."""

import argparse
import os
import subprocess
import sys

from . import config, credentials, dist, hub, lifecycle, pool, tls
from .config import LabError
from .hosts import Machine


def cmd_up(args):
    lifecycle.up()
    return 0


def cmd_apply(args):
    machine = Machine(config.host(args.host))
    dist.ensure_dist()
    status, log = pool.apply(machine)
    print(log.read_text(), end="")
    return status


def cmd_exec(args):
    machine = Machine(config.host(args.host))
    if not args.command:
        raise LabError("nothing to run: labctl exec HOST [--user NAME] -- COMMAND...")
    return machine.exec(args.command, user=args.user).returncode


def cmd_status(args):
    for line in lifecycle.status():
        print(line)
    return 0


def cmd_down(args):
    lifecycle.down()
    return 0


def cmd_url(args):
    print(hub.url())
    return 0


def cmd_ca(args):
    print(tls.ca_file())
    return 0


def cmd_hub_token(args):
    print(credentials.admin_token())
    return 0


def cmd_collect(args):
    """Daemon logs, configuration and queue state of every running host."""
    from .collect import collect
    collect(lifecycle.machines(), args.directory)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="labctl", description=__doc__)
    sub = parser.add_subparsers(dest="command_name", required=True)
    sub.add_parser("up", help="build what is missing, boot all hosts, apply their roles, wait for the pool")
    p = sub.add_parser("apply", help="run puppet apply on a host; exit with Puppet's detailed exit code")
    p.add_argument("host")
    p = sub.add_parser("exec", help="run a command on a host")
    p.add_argument("--user", help="run as this user instead of root")
    p.add_argument("host")
    sub.add_parser("status", help="print each host and its state")
    sub.add_parser("down", help="stop every host and remove mounts, namespaces and processes")
    p = sub.add_parser("collect", help="copy daemon logs and queue state into a directory")
    p.add_argument("directory")
    sub.add_parser("url", help="print the hub's URL, as this machine reaches it")
    sub.add_parser("hub-token", help="print a JupyterHub API token with the admin role")
    sub.add_parser("ca", help="print the path of the lab CA's certificate, which clients of the hub trust")
    # Everything after the first "--" is the command for `exec`, options and all.
    argv = sys.argv[1:] if argv is None else list(argv)
    command = []
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1:]
    args = parser.parse_args(argv)
    args.command = command
    if os.geteuid() != 0:
        print("labctl: must run as root (it mounts file systems and creates network namespaces)",
              file=sys.stderr)
        return 1
    handler = {"up": cmd_up, "apply": cmd_apply, "exec": cmd_exec, "status": cmd_status,
               "down": cmd_down, "collect": cmd_collect, "url": cmd_url,
               "hub-token": cmd_hub_token, "ca": cmd_ca}[args.command_name]
    try:
        return handler(args)
    except LabError as e:
        print(f"labctl {args.command_name}: {e}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"labctl {args.command_name}: timed out: {e}", file=sys.stderr)
        return 1
