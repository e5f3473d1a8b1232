"""The lab's certificate authority and the hub's certificate, made once per
lab with openssl, the way a site gets its hub a certificate from its CA.

The CA's certificate is what clients trust: this machine's tests and
browsers (ca_file()), and the hub host's own test helpers (GUEST_SECRETS).
The hub's key reaches the hub only as Hiera data in the lab's secrets.
"""

import ssl
import tempfile
from pathlib import Path

from . import config
from .run import run

# Names the hub's certificate is valid for: as this machine reaches it, by
# name inside the lab, and from the hub itself.
HUB_NAMES = ("DNS:hub.lab.test", "DNS:localhost", f"IP:{config.host('hub').address}", "IP:127.0.0.1")


def ca_file():
    return config.secrets_dir() / "ca.crt"


def client_context():
    """An SSL context that trusts the lab's CA (and checks the hub's name)."""
    return ssl.create_default_context(cafile=ca_file())


def make_certificates(secrets_dir):
    """Write ca.crt to secrets_dir; return (hub certificate PEM, hub key PEM)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        openssl = ["openssl"]
        # Key usages and key identifiers: Python 3.13 verifies strictly (VERIFY_X509_STRICT).
        run([*openssl, "req", "-x509", "-newkey", "rsa:3072", "-nodes", "-days", "30", "-subj",
             "/CN=Unchained Hub lab CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-addext", "subjectKeyIdentifier=hash",
             "-keyout", tmp / "ca.key", "-out", tmp / "ca.crt"], step="making the lab CA")
        run([*openssl, "req", "-newkey", "rsa:3072", "-nodes", "-subj", "/CN=hub.lab.test",
             "-keyout", tmp / "hub.key", "-out", tmp / "hub.csr"], step="making the hub's key")
        (tmp / "ext").write_text(f"subjectAltName = {','.join(HUB_NAMES)}\n"
                                 "extendedKeyUsage = serverAuth\nbasicConstraints = critical,CA:FALSE\n"
                                 "keyUsage = critical,digitalSignature,keyEncipherment\n"
                                 "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n")
        run([*openssl, "x509", "-req", "-in", tmp / "hub.csr", "-CA", tmp / "ca.crt", "-CAkey", tmp / "ca.key",
             "-CAcreateserial", "-days", "30", "-extfile", tmp / "ext", "-out", tmp / "hub.crt"],
            step="signing the hub's certificate")
        (secrets_dir / "ca.crt").write_bytes((tmp / "ca.crt").read_bytes())
        (secrets_dir / "ca.crt").chmod(0o644)
        return (tmp / "hub.crt").read_text(), (tmp / "hub.key").read_text()
