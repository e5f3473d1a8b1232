"""Login with the site's Kerberos password, leaving the user a ticket cache.

JupyterHub's PAM authenticator checks the password through the hub's own PAM
service (pam_krb5, see puppet's unchained_hub::pam) as the hub's
unprivileged account, which cannot write a cache owned by the user. So once
the password is right, `kinit` runs as the user (the hub's sudo rule allows
exactly that) with the password on its standard input: the cache is the
user's own, where krb5.conf's `default_ccache_name` says and their
HTCondor commands find it: in a directory of the user's under `ccache_dir`,
which the hub makes first so that no other user can. While the user has
servers, the hub renews that ticket (tickets.py); when it no longer can,
the user is sent to log in again (`refresh_user`), and the login page says why.

A login refused by the KDC because the principal is locked (too many wrong
passwords, the KDC's lockout policy) says so, and for how long, rather than
"Invalid username or password": after a failed login the hub asks the KDC
for the principal's ticket without a password, which the KDC refuses as
"revoked" for a locked (or disabled) principal, and which it does not count
as another failure.
"""

import asyncio
import math
import pwd

from jupyterhub.auth import PAMAuthenticator
from jupyterhub.handlers.login import LoginHandler
from tornado import web
from traitlets import Float, Unicode, default

from . import commands, tickets
from .contract import is_username


class KerberosPAMAuthenticator(PAMAuthenticator):
    kinit = Unicode("/usr/bin/kinit", help="kinit, run as the user through sudo.").tag(config=True)
    kinit_timeout = Float(15.0, help="Seconds kinit may take.").tag(config=True)

    ccache_dir = Unicode(
        "",
        help="""Where krb5.conf keeps users' tickets, in a directory per user
        (`default_ccache_name = FILE:ccache_dir/%{uid}/ccache`): the hub's own directory,
        in which it makes each user's before their login's kinit. Empty: the library's
        default place, which the hub does not prepare.""",
    ).tag(config=True)

    ticket_renew_interval = Float(
        3600.0,
        help="""Seconds between renewals (`kinit -R`, as the user) of the tickets of users
        with servers; well under the tickets' lifetime.""",
    ).tag(config=True)

    lockout_duration = Float(
        600.0,
        help="""Seconds the KDC keeps a principal locked after too many wrong passwords: the
        lockout policy's duration (puppet's profile::kerberos::kdc::lockout), for the
        message a locked user reads.""",
    ).tag(config=True)

    @default("refresh_pre_spawn")
    def _default_refresh_pre_spawn(self):
        # A user whose ticket could not be renewed logs in again before a spawn.
        return True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ticket_renewer = tickets.TicketRenewer(
            interval=self.ticket_renew_interval, log=self.log, kinit=self.kinit, timeout=self.kinit_timeout)

    async def authenticate(self, handler, data):
        username = await super().authenticate(handler, data)
        name = username["name"] if isinstance(username, dict) else username
        if name is None:
            await self._refuse_if_locked(data.get("username", ""))
            return None
        if not is_username(name):
            self.log.warning("Login of %r refused: not a name the hub acts for", name)
            return None
        error = self._prepare_cache_dir(name) or await tickets.kinit_as(
            name, stdin=data["password"] + "\n", kinit=self.kinit, timeout=self.kinit_timeout)
        if error:
            # The password was right, but the user would have no ticket: the
            # spawn would fail later, less clearly.
            self.log.error("Login of %s refused: kinit failed: %s", name, error)
            return None
        self.ticket_renewer.logged_in(name)
        return username

    def _prepare_cache_dir(self, name):
        """None, or why the user's ticket directory could not be made."""
        if not self.ccache_dir:
            return None
        try:
            tickets.prepare_cache_dir(self.ccache_dir, pwd.getpwnam(name).pw_uid)
        except KeyError:
            return f"{name} has no account on the hub machine"
        except OSError as e:
            return f"their ticket directory could not be made: {e}"
        return None

    async def refresh_user(self, user, handler=None):
        why = self.ticket_renewer.must_log_in(user.name)
        if why is None:
            return True
        self.log.warning("%s must log in again: their Kerberos ticket could not be renewed (%s)", user.name, why)
        if handler is not None:
            # JupyterHub logs them out and sends them to the login page, which
            # reads this to say why (it holds no secret).
            handler.set_cookie(RELOGIN_COOKIE, "ticket", path=handler.hub.base_url, secure=True, httponly=True)
        return False

    def get_handlers(self, app):
        return [("/login", TicketLoginHandler)]

    async def _refuse_if_locked(self, name):
        """Raise a 403 that says so if the KDC has locked `name` out."""
        if not is_username(name):
            return
        try:
            _, _, err = await commands.run([self.kinit, "-c", "MEMORY:lockout-probe", "--", name], None,
                                           self.kinit_timeout, limit=tickets.KINIT_OUTPUT_LIMIT)
        except (asyncio.TimeoutError, commands.OutputTooLarge, OSError) as e:
            self.log.warning("Could not ask the KDC whether %s is locked out: %s", name, e)
            return
        if b"credentials have been revoked" not in err:
            return
        minutes = max(1, math.ceil(self.lockout_duration / 60))
        self.log.warning("Login of %s refused: the KDC has locked the principal (too many failed logins, "
                         "or disabled)", name)
        raise web.HTTPError(
            403, f"Too many failed logins: the site's Kerberos server has locked {name} for now. Try again in "
                 f"{minutes} minute{'s' if minutes != 1 else ''}; if it still fails then, ask the site admin.")


RELOGIN_COOKIE = "unchained-relogin"
RELOGIN_MESSAGE = ("Your Kerberos ticket could no longer be renewed, so the hub logged you out. Log in again "
                   "to get a new ticket: your running servers keep running, and the hub can reach them again.")


class TicketLoginHandler(LoginHandler):
    """JupyterHub's login page, saying why when a lapsed ticket brought the user here."""

    def _render(self, login_error=None, username=None, **kwargs):
        if self.get_cookie(RELOGIN_COOKIE):
            self.clear_cookie(RELOGIN_COOKIE, path=self.hub.base_url)
            login_error = login_error or RELOGIN_MESSAGE
        return super()._render(login_error=login_error, username=username, **kwargs)
