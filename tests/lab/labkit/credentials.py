"""The lab's secrets, made once per lab like a site's eyaml data and kept as
Hiera data (config.SECRETS_FILE in config.secrets_dir(), which every host
sees read-only at GUEST_SECRETS): the pool signing key, the token of the
hub's admin service, the hub's TLS certificate and key from the lab's own CA,
the token Prometheus scrapes the hub's metrics with, the submit host's
keytabs from the lab's KDC, and the overlay manager's ssh key.

Site B, another institute, sees none of these: its hosts mount a directory
of their own (site_b_secrets_dir()) with its munge key, the drone token the
central manager issues for it, and the overlay manager's public key.
"""

import base64
import os
import secrets
import subprocess

from . import config, hiera, tls
from .config import LabError

# Hiera key prefixes of earlier versions of the modules, and their names now.
RENAMED_PREFIXES = (("htcondor::", "unchained_htcondor::"), ("profile::jupyterhub::", "unchained_hub::"))
# The token of Prometheus (mon), which the hub knows as the service `prometheus`.
METRICS_TOKEN_KEY = "profile::prometheus::hub_token"


# The drone identity of site B, and how long its token lasts (a site
# issues a new one before it expires; see puppet/README.md).
DRONE_IDENTITY = f"drone-siteb@{config.DOMAIN}"
DRONE_TOKEN_LIFETIME = 30 * 24 * 3600
DRONE_TOKEN_KEY = "unchained_htcondor::drone::token"
OVERLAY_KEY = "profile::overlay_manager::ssh_private_key"
OVERLAY_LOGIN_HOST_KEY = "profile::overlay_manager::login_host_key"
OVERLAY_TOKEN_KEY = "profile::overlay_manager::condor_token"
OVERLAY_IDENTITY = f"overlay-manager@{config.DOMAIN}"


def secrets_file():
    return config.secrets_dir() / config.SECRETS_FILE


def site_b_secrets_dir():
    return config.STATE_DIR / "secrets-siteb"


def site_b_secrets_file():
    return site_b_secrets_dir() / config.SECRETS_FILE


def secrets_dir_of(host):
    return site_b_secrets_dir() if host.site == config.SITE_B else config.secrets_dir()


def _append(path, text):
    with open(path, "a") as f:
        f.write(text)


def _new_private_file(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _ensure_overlay_key(path):
    """The overlay manager's ssh key: the private half in site A's secrets,
    the public half in site B's (for the drone account on its login host)."""
    if hiera.has_key(path.read_text(), OVERLAY_KEY):
        return
    keyfile = config.secrets_dir() / "overlay-manager-key"
    keyfile.unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"overlay-manager@{config.DOMAIN}",
                    "-f", keyfile], check=True)
    public = keyfile.with_suffix(".pub")
    _append(path, hiera.literal(OVERLAY_KEY, keyfile.read_text()))
    _append(site_b_secrets_file(),
            hiera.list_of("profile::drone_account::authorized_keys", [public.read_text().strip()]))
    keyfile.unlink()
    public.unlink()


def _ensure_site_b_secrets():
    directory = site_b_secrets_dir()
    if site_b_secrets_file().exists():
        return
    directory.mkdir(mode=0o700, exist_ok=True)
    _new_private_file(site_b_secrets_file(), "---\n" + hiera.scalar(
        "profile::slurm::munge_key", base64.b64encode(secrets.token_bytes(1024)).decode()))


def ensure_secrets():
    """The pool signing key, the admin service's token and the hub's
    certificate and key, made if the lab has none yet; returns the directory
    the hosts mount."""
    directory = config.secrets_dir()
    path = secrets_file()
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        certificate, key = tls.make_certificates(directory)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("---\n"
                    + hiera.scalar("unchained_htcondor::pool_signing_key", secrets.token_urlsafe(48))
                    + hiera.hash_of(config.ADMIN_TOKEN_KEY, {config.ADMIN_SERVICE: secrets.token_hex(32)})
                    + hiera.literal("unchained_hub::tls_certificate", certificate)
                    + hiera.literal("unchained_hub::tls_key", key))
    # A lab made before the modules were renamed: its keys follow.
    text = renamed = path.read_text()
    for old, new in RENAMED_PREFIXES:
        renamed = "\n".join(new + line[len(old):] if line.startswith(old) else line for line in renamed.split("\n"))
    if renamed != text:
        path.write_text(renamed)
    if not hiera.has_key(path.read_text(), METRICS_TOKEN_KEY):
        token = secrets.token_hex(32)
        with open(path, "a") as f:
            f.write(hiera.hash_of("unchained_hub::metrics_services", {"prometheus": token})
                    + hiera.scalar(METRICS_TOKEN_KEY, token)
                    + hiera.literal("profile::prometheus::ca_certificate", tls.ca_file().read_text()))
    _ensure_site_b_secrets()
    _ensure_overlay_key(path)
    return directory


def ensure_drone_token(cm):
    """Site B's drone token, and the overlay manager's, which may read the
    pool, issued by the central manager once per lab the way a pool's admin
    issues them (puppet/README.md)."""
    tokens = (
        (site_b_secrets_file(), DRONE_TOKEN_KEY, DRONE_IDENTITY, ["ADVERTISE_STARTD", "ADVERTISE_MASTER"]),
        (secrets_file(), OVERLAY_TOKEN_KEY, OVERLAY_IDENTITY, ["READ"]),
    )
    for path, key, identity, scopes in tokens:
        if hiera.has_key(path.read_text(), key):
            continue
        result = cm.exec(["condor_token_create", "-identity", identity, "-key", "POOL",
                          *[arg for scope in scopes for arg in ("-authz", scope)],
                          "-lifetime", str(DRONE_TOKEN_LIFETIME)], capture=True)
        token = result.stdout.strip()
        if result.returncode != 0 or not token:
            raise LabError(f"issuing the token of {identity} on {cm.host.name} failed: {result.stderr.strip()}")
        _append(path, hiera.scalar(key, token))


def ensure_login_host_key(login):
    """Site B's login host's ssh host key, which the overlay manager checks:
    read from the host once it runs, as a site's admin would be told it."""
    path = secrets_file()
    if hiera.has_key(path.read_text(), OVERLAY_LOGIN_HOST_KEY):
        return
    key = login.exec(["cat", "/etc/ssh/ssh_host_ed25519_key.pub"], capture=True, check=True).stdout.split()
    _append(path, hiera.scalar(OVERLAY_LOGIN_HOST_KEY, f"{key[0]} {key[1]}"))


def ensure_submit_keytabs(kdc):
    """The submit host's keytabs (config.KEYTABS), each exported from the lab's
    KDC once per lab and added to the lab's secrets, the way a site's Kerberos
    admins hand one over."""
    path = secrets_file()
    for key, service in config.KEYTABS.items():
        if hiera.has_key(path.read_text(), key):
            continue
        principal = f"{service}/{config.host(config.SUBMIT_HOST).fqdn}"
        exported = "/root/submit-host.keytab"
        kdc.exec(["rm", "-f", exported], check=True)
        kdc.exec(["kadmin.local", "-q", f"ktadd -norandkey -k {exported} {principal}"], capture=True, check=True)
        keytab = kdc.exec(["base64", "-w0", exported], capture=True, check=True).stdout.strip()
        kdc.exec(["rm", "-f", exported], check=True)
        if not keytab:
            raise LabError(f"exporting the keytab of {principal} on {kdc.host.name} gave nothing")
        _append(path, hiera.scalar(key, keytab))


def admin_token():
    """The hub admin service's token, from the lab's secrets."""
    path = secrets_file()
    token = hiera.first_entry(path.read_text(), config.ADMIN_TOKEN_KEY) if path.exists() else None
    if token is None:
        raise LabError("the lab has no hub token yet: run `labctl up`")
    return token
