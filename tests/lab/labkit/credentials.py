"""The lab's secrets, made once per lab like a site's eyaml data and kept as
Hiera data (config.SECRETS_FILE in config.secrets_dir(), which every host
sees read-only at GUEST_SECRETS): the pool signing key, the token of the
hub's admin service, the hub's TLS certificate and key from the lab's own CA,
the token Prometheus scrapes the hub's metrics with, and the submit host's
keytabs from the lab's KDC.
"""

import os
import secrets

from . import config, hiera, tls
from .config import LabError

# Hiera key prefixes of earlier versions of the modules, and their names now.
RENAMED_PREFIXES = (("htcondor::", "unchained_htcondor::"), ("profile::jupyterhub::", "unchained_hub::"))
# The token of Prometheus (mon), which the hub knows as the service `prometheus`.
METRICS_TOKEN_KEY = "profile::prometheus::hub_token"


def secrets_file():
    return config.secrets_dir() / config.SECRETS_FILE


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
    return directory


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
        with open(path, "a") as f:
            f.write(hiera.scalar(key, keytab))


def admin_token():
    """The hub admin service's token, from the lab's secrets."""
    path = secrets_file()
    token = hiera.first_entry(path.read_text(), config.ADMIN_TOKEN_KEY) if path.exists() else None
    if token is None:
        raise LabError("the lab has no hub token yet: run `labctl up`")
    return token
