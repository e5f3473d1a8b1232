"""The ticket renewer's logic against a stand-in for `sudo kinit -R`: whose
tickets it renews, with which command line, what it remembers of a failed
renewal and when it forgets it. The real sudo, kinit and KDC are exercised by
the lab (tests/lab/test_kerberos.py)."""

import asyncio
import logging
import os
import struct

import pytest
from unchained_hub import tickets


class Poller:
    def __init__(self, jobs):
        self.jobs = jobs


class Kinit:
    """Answers as `sudo kinit -R` would, per user; records each command line."""

    def __init__(self, failing=()):
        self.failing = set(failing)
        self.calls = []

    async def __call__(self, argv, stdin, timeout, limit):
        self.calls.append(argv)
        user = argv[argv.index("-u") + 1]
        if user in self.failing:
            return 1, b"", b"kinit: Ticket expired while renewing credentials\n"
        return 0, b"", b""


def renewer(kinit, interval=3600.0):
    return tickets.TicketRenewer(interval=interval, log=logging.getLogger("test"), run=kinit)


def test_it_renews_as_each_owner_of_a_job_once_with_the_exact_command():
    kinit = Kinit()
    r = renewer(kinit)
    r.watch(Poller({1: {"Owner": "bob"}, 2: {"Owner": "alice"}, 3: {"Owner": "alice"}}))
    r.watch(Poller({4: {"Owner": "carol"}}))
    asyncio.run(r.renew_all())
    assert kinit.calls == [["sudo", "-n", "-u", user, "--", "/usr/bin/kinit", "-R"]
                           for user in ("alice", "bob", "carol")]


def test_owners_that_are_no_user_name_are_left_alone():
    r = renewer(Kinit())
    r.watch(Poller({1: {"Owner": "root -R"}, 2: {}, 3: {"Owner": "Alice"}, 4: {"Owner": "dave"}}))
    assert r.owners() == ["dave"]


def test_a_failed_renewal_asks_the_user_to_log_in_until_they_do(caplog):
    kinit = Kinit(failing={"alice"})
    r = renewer(kinit)
    r.watch(Poller({1: {"Owner": "alice"}, 2: {"Owner": "bob"}}))
    with caplog.at_level(logging.ERROR):
        asyncio.run(r.renew_all())
        asyncio.run(r.renew_all())
    assert r.must_log_in("alice") == "kinit: Ticket expired while renewing credentials"
    assert r.must_log_in("bob") is None
    # Said once, not at every interval.
    errors = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.ERROR]
    assert len(errors) == 1 and "alice" in errors[0] and "log in to the hub again" in errors[0], errors
    r.logged_in("alice")
    assert r.must_log_in("alice") is None


def test_a_renewal_that_works_again_clears_the_request():
    kinit = Kinit(failing={"alice"})
    r = renewer(kinit)
    assert asyncio.run(r.renew("alice")) is False
    kinit.failing.clear()
    assert asyncio.run(r.renew("alice")) is True
    assert r.must_log_in("alice") is None


def test_a_kinit_that_hangs_or_cannot_start_is_a_failed_renewal():
    async def hangs(argv, stdin, timeout, limit):
        raise asyncio.TimeoutError

    async def missing(argv, stdin, timeout, limit):
        raise FileNotFoundError(2, "No such file or directory", argv[0])

    r = renewer(hangs)
    assert asyncio.run(r.renew("alice")) is False
    assert r.must_log_in("alice") == "kinit -R gave no answer within 15 s"
    r.run = missing
    assert asyncio.run(r.renew("alice")) is False
    assert "No such file or directory" in r.must_log_in("alice")


def test_kinit_at_login_gets_the_password_on_stdin_and_no_arguments():
    seen = {}

    async def run(argv, stdin, timeout, limit):
        seen.update(argv=argv, stdin=stdin)
        return 0, b"", b""

    assert asyncio.run(tickets.kinit_as("alice", stdin="secret\n", run=run)) is None
    assert seen == {"argv": ["sudo", "-n", "-u", "alice", "--", "/usr/bin/kinit"], "stdin": b"secret\n"}


def test_it_renews_every_interval_while_the_loop_runs():
    kinit = Kinit()

    async def scenario():
        r = renewer(kinit, interval=0.05)
        r.watch(Poller({1: {"Owner": "alice"}}))
        r.watch(Poller({}))  # a second poller starts no second loop
        started = asyncio.get_running_loop().time()
        while len(kinit.calls) < 3:
            await asyncio.sleep(0.01)
        elapsed = asyncio.get_running_loop().time() - started
        await r.close()
        return elapsed

    # Three renewals, not before three intervals have passed.
    assert asyncio.run(asyncio.wait_for(scenario(), 10)) >= 0.15


def test_without_an_event_loop_watching_starts_nothing():
    r = renewer(Kinit())
    r.watch(Poller({}))
    assert r._task is None


def test_an_authenticator_without_tickets_gets_no_renewals():
    class Plain:
        pass

    class WithTickets:
        ticket_renewer = renewer(Kinit())

    poller = Poller({})
    tickets.watch(poller, Plain())
    tickets.watch(poller, None)
    tickets.watch(poller, WithTickets())
    assert WithTickets.ticket_renewer._pollers == [poller]


def acl_entries(path):
    """(tag, permissions, id) of a directory's access ACL."""
    raw = os.getxattr(path, "system.posix_acl_access")
    return [struct.unpack_from("<HHI", raw, offset) for offset in range(4, len(raw), 8)]


def test_a_users_ticket_directory_is_the_hubs_and_open_to_that_user_alone(tmp_path):
    path = tickets.prepare_cache_dir(str(tmp_path), 4242)
    assert path == str(tmp_path / "4242")
    info = os.stat(path)
    assert info.st_uid == os.geteuid() and info.st_mode & 0o777 == 0o770  # the ACL mask shows as group bits
    entries = acl_entries(path)
    assert (0x02, 7, 4242) in entries  # the user
    assert (0x04, 0, 0xFFFFFFFF) in entries and (0x20, 0, 0xFFFFFFFF) in entries  # no group, no others
    assert [e for e in entries if e[0] == 0x02] == [(0x02, 7, 4242)]  # no one else by name
    # Again (the next login): the same directory.
    assert tickets.prepare_cache_dir(str(tmp_path), 4242) == path


def test_a_ticket_directory_someone_else_made_is_refused(tmp_path):
    (tmp_path / "4242").symlink_to(tmp_path)
    with pytest.raises(OSError, match="not the hub's own directory"):
        tickets.prepare_cache_dir(str(tmp_path), 4242)
