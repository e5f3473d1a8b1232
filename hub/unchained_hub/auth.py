"""Login with the site's Kerberos password, leaving the user a ticket cache.

JupyterHub's PAM authenticator checks the password through the hub's own PAM
service (pam_krb5, see puppet's profile::jupyterhub::pam) as the hub's
unprivileged account, which cannot write a cache owned by the user. So once
the password is right, `kinit` runs as the user (the hub's sudo rule allows
exactly that) with the password on its standard input: the cache is the
user's own, mode 0600, where their HTCondor commands find it.
"""

import asyncio

from jupyterhub.auth import PAMAuthenticator
from traitlets import Float, Unicode

from .contract import is_username


class KerberosPAMAuthenticator(PAMAuthenticator):
    kinit = Unicode("/usr/bin/kinit", help="kinit, run as the user through sudo.").tag(config=True)
    kinit_timeout = Float(15.0, help="Seconds kinit may take.").tag(config=True)

    async def authenticate(self, handler, data):
        username = await super().authenticate(handler, data)
        name = username["name"] if isinstance(username, dict) else username
        if name is None:
            return None
        if not is_username(name):
            self.log.warning("Login of %r refused: not a name the hub acts for", name)
            return None
        error = await self._kinit(name, data["password"])
        if error:
            # The password was right, but the user would have no ticket: the
            # spawn would fail later, less clearly.
            self.log.error("Login of %s refused: kinit failed: %s", name, error)
            return None
        return username

    async def _kinit(self, name, password):
        """None, or why kinit failed (its stderr)."""
        proc = await asyncio.create_subprocess_exec(
            "sudo", "-n", "-u", name, self.kinit, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            _, err = await asyncio.wait_for(proc.communicate((password + "\n").encode()), self.kinit_timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            return f"no answer within {self.kinit_timeout:.0f} s"
        return None if proc.returncode == 0 else err.decode(errors="replace").strip()[-500:]
