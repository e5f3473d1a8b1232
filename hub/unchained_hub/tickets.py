"""Renewing the Kerberos tickets of the users whose servers run.

A login leaves the user a ticket (auth.py) that lasts a day and may be
renewed for a week (the site's krb5.conf and KDC say how long). A running
server needs it: its tunnel is opened again, and the server stopped, with
HTCondor's tools as the user, which the schedd lets through only with a
valid ticket. So every `ticket_renew_interval` seconds the hub renews the
ticket of each owner of one of its jobs, as that user, with `kinit -R` (the
hub's sudo rule allows exactly that): the ticket's lifetime starts again, up
to the end of its renewable life. The interval must be well under the
tickets' lifetime.

When a renewal fails (the renewable life is over, the cache is gone, the KDC
refuses), the hub logs why, and the user has to log in again, which gives a
new ticket: until then the authenticator's `refresh_user` answers no for
them, so JupyterHub sends them to the login page and refuses their spawns
("auth has expired ..., login again").

One renewer per hub process, made by the authenticator; each spawner shows
it the shared job poller (`watch`), whose last answer names the owners.
"""

import asyncio
import contextlib
import os

from . import acl, commands
from .contract import is_username

# kinit prints a line or two; the hub reads no more than this of it.
KINIT_OUTPUT_LIMIT = 64 * 1024


class TicketRenewer:
    def __init__(self, *, interval, log, kinit="/usr/bin/kinit", sudo="sudo", timeout=15.0, run=commands.run):
        self.interval = interval
        self.log = log
        self.kinit = kinit
        self.sudo = sudo
        self.timeout = timeout
        self.run = run
        self.lapsed = {}  # user -> why their ticket could not be renewed
        self._pollers = []
        self._task = None

    def watch(self, poller):
        """Renew the tickets of the owners of `poller`'s jobs from now on
        (once there is an event loop to do it in)."""
        if poller not in self._pollers:
            self._pollers.append(poller)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._loop())

    def owners(self):
        """The users who own a job of this hub, by the pollers' last answers."""
        return sorted({ad.get("Owner") for poller in self._pollers for ad in poller.jobs.values()
                       if is_username(ad.get("Owner") or "")})

    def must_log_in(self, user):
        """Why `user` must log in again (their ticket could not be renewed), or None."""
        return self.lapsed.get(user)

    def logged_in(self, user):
        """`user` has just logged in: their ticket is new."""
        self.lapsed.pop(user, None)

    async def _loop(self):
        while True:
            await asyncio.sleep(self.interval)
            await self.renew_all()

    async def renew_all(self):
        for user in self.owners():
            await self.renew(user)

    async def renew(self, user):
        """Renew `user`'s ticket; whether that worked."""
        why = await self._kinit_renew(user)
        if why is None:
            if self.lapsed.pop(user, None) is not None:
                self.log.info("The Kerberos ticket of %s is renewed again", user)
            return True
        if user not in self.lapsed:
            self.log.error("Could not renew the Kerberos ticket of %s (%s): once it expires, their servers "
                           "can no longer be reconnected or stopped cleanly; they must log in to the hub "
                           "again, which the hub now asks of them", user, why)
        self.lapsed[user] = why
        return False

    async def _kinit_renew(self, user):
        """None, or why `kinit -R` as `user` failed."""
        return await kinit_as(user, "-R", kinit=self.kinit, sudo=self.sudo, timeout=self.timeout, run=self.run)

    async def close(self):
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def kinit_as(user, *args, stdin=None, kinit="/usr/bin/kinit", sudo="sudo", timeout=15.0, run=commands.run):
    """Run kinit with `args` as `user` through sudo, `stdin` (text) on its
    standard input; None, or why it failed (the end of its standard error)."""
    what = " ".join(["kinit", *args])
    try:
        code, _, err = await run([sudo, "-n", "-u", user, "--", kinit, *args],
                                 None if stdin is None else stdin.encode(), timeout, limit=KINIT_OUTPUT_LIMIT)
    except asyncio.TimeoutError:
        return f"{what} gave no answer within {timeout:.0f} s"
    except (commands.OutputTooLarge, OSError) as e:
        return f"{what}: {e}"
    return None if code == 0 else err.decode(errors="replace").strip()[-500:] or f"{what}: exit status {code}"


def prepare_cache_dir(base, uid):
    """The directory of the user `uid`'s tickets, `base/UID`, made before
    their login's kinit: the hub's own, so that no one can make it first,
    0700, and by ACL open to that user alone (the hub's account could open
    it too, but not the cache in it, which kinit makes 0600). Its path as
    krb5.conf's `default_ccache_name` names it (`FILE:base/%{uid}/ccache`)."""
    path = os.path.join(base, str(int(uid)))
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    # Opened once, not followed if a link: what is checked is what is changed.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as e:
        raise OSError(f"{path} is not the hub's own directory ({e.strerror}); "
                      "the site admin should remove it") from None
    try:
        if os.fstat(fd).st_uid != os.geteuid():
            raise OSError(f"{path} is not the hub's own directory; the site admin should remove it")
        os.fchmod(fd, 0o700)
        acl.set_access(fd, uid, 7)
    finally:
        os.close(fd)
    return path


def watch(poller, authenticator):
    """Renew the tickets of the owners of `poller`'s jobs, if `authenticator`
    gives users tickets (`KerberosPAMAuthenticator`)."""
    renewer = getattr(authenticator, "ticket_renewer", None)
    if renewer is not None:
        renewer.watch(poller)
