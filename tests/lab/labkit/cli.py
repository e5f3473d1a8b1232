"""labctl: build, boot, configure and tear down the site lab."""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from . import config, dist, image, jobimage, network, pool, publish, tls
from .config import LabError
from .hosts import Machine
from .run import say


def machines():
    return [Machine(h) for h in config.HOSTS]


def ensure_secrets():
    """The lab's secrets, made once per lab like a site's eyaml data: the
    pool signing key, the token of the hub's admin service, and the hub's
    TLS certificate and key from the lab's own CA."""
    secrets_dir = config.STATE_DIR / "secrets"
    path = secrets_dir / config.SECRETS_FILE
    if not path.exists():
        secrets_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(secrets_dir, 0o700)
        certificate, key = tls.make_certificates(secrets_dir)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"---\nhtcondor::pool_signing_key: '{secrets.token_urlsafe(48)}'\n"
                    f"{config.ADMIN_TOKEN_KEY}:\n  {config.ADMIN_SERVICE}: '{secrets.token_hex(32)}'\n"
                    f"profile::jupyterhub::tls_certificate: |\n{_indent(certificate)}"
                    f"profile::jupyterhub::tls_key: |\n{_indent(key)}")
    return secrets_dir


def ensure_submit_keytab(kdc):
    """The submit host's keytab, exported from the lab's KDC once per lab and
    added to the lab's secrets, the way a site's Kerberos admins hand one over."""
    path = config.STATE_DIR / "secrets" / config.SECRETS_FILE
    if f"\n{config.KEYTAB_KEY}:" in path.read_text():
        return
    principal = f"host/{config.host(config.SUBMIT_HOST).fqdn}"
    exported = "/root/submit-host.keytab"
    kdc.exec(["rm", "-f", exported], check=True)
    kdc.exec(["kadmin.local", "-q", f"ktadd -norandkey -k {exported} {principal}"], capture=True, check=True)
    keytab = kdc.exec(["base64", "-w0", exported], capture=True, check=True).stdout.strip()
    kdc.exec(["rm", "-f", exported], check=True)
    if not keytab:
        raise LabError(f"exporting the keytab of {principal} on {kdc.host.name} gave nothing")
    with open(path, "a") as f:
        f.write(f"{config.KEYTAB_KEY}: '{keytab}'\n")


def _indent(pem):
    return "".join(f"  {line}\n" for line in pem.splitlines())


def admin_token():
    """The hub admin service's token, from the lab's secrets."""
    path = config.STATE_DIR / "secrets" / config.SECRETS_FILE
    lines = path.read_text().splitlines() if path.exists() else []
    for i, line in enumerate(lines):
        if line.startswith(f"{config.ADMIN_TOKEN_KEY}:") and i + 1 < len(lines):
            return lines[i + 1].split(":", 1)[1].strip().strip("'")
    raise LabError("the lab has no hub token yet: run `labctl up`")


def hub_url():
    return f"https://{config.host('hub').address}:{config.HUB_PORT}/"


def wait_hub_ready(timeout=120):
    """Wait until JupyterHub answers through its proxy."""
    import urllib.error
    import urllib.request
    deadline = time.monotonic() + timeout
    error = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(hub_url() + "hub/api/", timeout=5, context=tls.client_context()) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError) as e:
            error = e
        time.sleep(0.5)
    raise LabError(f"JupyterHub did not answer at {hub_url()} within {timeout} s ({error}); "
                   "see `labctl exec hub -- journalctl -u jupyterhub`")


def check_image_in_use(job_image):
    """Refuse to boot hosts on a new image (the hosts' or the jobs') while
    others run on an old one."""
    recorded = config.STATE_DIR / "image"
    current = f"{image.image_dir()}\n{job_image}"
    if recorded.exists() and recorded.read_text() != current and any(m.is_running() for m in machines()):
        raise LabError("the lab runs on an older image than its inputs now describe; run `labctl down` first")
    recorded.write_text(current)


def apply_checked(machine):
    status, log = pool.apply(machine)
    if status not in pool.APPLY_OK:
        raise LabError(f"puppet apply on {machine.host.name} failed (exit {status}); log: {log}")
    return status


def cmd_up(args):
    started = time.monotonic()
    image.ensure_image()
    job_image = jobimage.ensure_job_image()
    check_image_in_use(job_image)
    secrets_dir = ensure_secrets()
    dist.ensure_dist()
    network.ensure_bridge()
    (config.cvmfs_storage() / config.CVMFS_REPO).mkdir(parents=True, exist_ok=True)

    all_machines = machines()
    booted = []
    for m in all_machines:
        network.ensure_host_network(m.host)
        if not m.is_running():
            say(f"booting {m.host.name}")
            m.boot(secrets_dir)
            booted.append(m)
    for m in booted:
        m.wait_booted()

    # Apply hosts not applied yet, or applied before puppet/ or the lab's
    # Hiera changed. Execute hosts go once the central manager runs: a startd
    # that starts while the CCB is down advertises itself without a CCB
    # address and, measured with HTCondor 23.9, does not register for minutes.
    # Hosts that need no CCB are configured alongside the central manager.
    # The notebook environment is published as soon as the publisher is
    # configured, while the execute hosts are.
    # The submit host (the hub) needs the keytab the KDC exports, so it goes
    # with the execute hosts too.
    pending = [m for m in all_machines if pool.apply_state(m) != "converged"]
    later = [m for m in pending if m.host.firewalled or m.host.name == config.SUBMIT_HOST]
    first = [m for m in pending if m not in later]
    publisher = Machine(config.host(config.PUBLISHER))
    with ThreadPoolExecutor(1) as background:
        publishing = None
        for group in (first, later):
            if group:
                say(f"applying {', '.join(m.host.name for m in group)}")
                with ThreadPoolExecutor(len(group)) as pool_:
                    list(pool_.map(apply_checked, group))
            if publishing is None:
                publishing = background.submit(publish.ensure_published, publisher)
                ensure_submit_keytab(Machine(config.host(config.KDC)))
        pool.wait_pool_ready(all_machines[0])
        wait_hub_ready()
        publishing.result()
    say(f"lab ready in {time.monotonic() - started:.1f} s")
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
    all_machines = machines()
    any_running = False
    for m in all_machines:
        if m.is_running():
            any_running = True
            system = m.exec(["systemctl", "is-system-running"], capture=True).stdout.strip()
            condor = m.exec(["systemctl", "is-active", "condor"], capture=True).stdout.strip()
            print(f"{m.host.name:4} {m.host.address:12} running  system={system} condor={condor} "
                  f"{pool.apply_state(m)}")
        else:
            print(f"{m.host.name:4} {m.host.address:12} stopped")
    if any_running:
        cm = all_machines[0]
        ready = cm.is_running() and pool.pool_ready(cm)
        print(f"pool: {'ready' if ready else 'not ready'}")
    return 0


def cmd_down(args):
    all_machines = machines()
    with ThreadPoolExecutor(len(all_machines)) as pool_:
        list(pool_.map(Machine.shut_down, all_machines))
    for m in all_machines:
        network.remove_host_network(m.host)
        m.remove()
    network.remove_bridge()
    shutil.rmtree(config.STATE_DIR, ignore_errors=True)
    say("lab is down")
    return 0


def cmd_url(args):
    print(hub_url())
    return 0


def cmd_ca(args):
    print(tls.ca_file())
    return 0


def cmd_hub_token(args):
    print(admin_token())
    return 0


def cmd_collect(args):
    """Daemon logs, configuration and queue state of every running host."""
    from .collect import collect
    collect(machines(), args.directory)
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
