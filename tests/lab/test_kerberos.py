"""Kerberos done right (issue 18): ticket caches in directories of the users'
own, logins verified with the hub's keytab, the KDC's lockout shown on the
login page, and tickets renewed by the hub while a server runs.

Each test that changes a principal has a user of its own (dave: lockout;
erin: short tickets), so that other tests can use alice and bob meanwhile.
"""

import http.cookiejar
import re
import time
import urllib.request

from hubclient import SMALL, job_of, spawn
from labkit.tls import client_context
from labtest import CCACHE_DIR, HUB_PYTHON, PASSWORDS, wait_for
from test_hub import answers, tunnel_pids
from test_login import login

KEYTAB = "/etc/jupyterhub/krb5.keytab"
HUB_PRINCIPAL = "jupyterhub/hub.lab.test@LAB.TEST"


def kadmin(lab, query):
    return lab.exec("kdc", "kadmin.local", "-q", query).stdout


def uid(lab, user):
    return int(lab.exec("hub", "id", "-u", user).stdout)


def klist(lab, user):
    return lab.exec("hub", "klist", user=user, check=False).stdout


def hub_log_since(lab, since):
    return lab.exec("hub", "journalctl", "-u", "jupyterhub", "--since", f"@{since:.0f}", "-o", "cat").stdout


# -- 1. caches out of the shared /tmp ------------------------------------------

def test_tickets_are_in_a_directory_no_other_user_can_make_or_enter(lab):
    alice = uid(lab, "alice")
    mine = f"{CCACHE_DIR}/{alice}"
    # What broke a login before: bob takes the name of alice's cache in /tmp first.
    lab.exec("hub", "rm", "-f", f"/tmp/krb5cc_{alice}")
    lab.exec("hub", "sh", "-c", f"echo junk > /tmp/krb5cc_{alice}", user="bob")
    try:
        for attempt in (["ls", CCACHE_DIR], ["ls", mine], ["mkdir", f"{CCACHE_DIR}/2099"],
                        ["touch", f"{mine}/ccache"], ["cat", f"{mine}/ccache"], ["rm", "-rf", mine]):
            denied = lab.exec("hub", *attempt, user="bob", check=False)
            assert denied.returncode != 0 and "Permission denied" in denied.stderr, (attempt, denied)
        lab.exec("hub", "kdestroy", user="alice", check=False)
        status, page, cookies = login(lab, "alice", PASSWORDS["alice"])
        assert status == 200 and "jupyterhub-hub-login" in cookies, (status, page[:300])
        assert f"Ticket cache: FILE:{mine}/ccache" in klist(lab, "alice")
        assert lab.exec("hub", "stat", "-c", "%a %U", f"{mine}/ccache").stdout.split() == ["600", "alice"]
        # Her HTCondor commands find it: a query, and a submission, which the
        # schedd takes only with her ticket.
        lab.exec("hub", "condor_q", user="alice")
        job = lab.submit("alice", "executable = /bin/true\nhold = true\nqueue\n")
        lab.exec("hub", "condor_rm", job, user="alice")
    finally:
        lab.exec("hub", "rm", "-f", f"/tmp/krb5cc_{alice}")


# -- 2. pam_krb5 verifies the KDC's answer with the hub's keytab -----------------

PAM_CHECK = """
import pamela, sys
user, service = sys.argv[1:]
try:
    pamela.authenticate(user, sys.stdin.readline().rstrip("\\n"), service=service)
    print("accepted")
except pamela.PAMError as e:
    print("refused", e)
"""


def pam_check(lab, user, keytab):
    """As the hub checks a password (its account, its KRB5_CONFIG), through a
    copy of its PAM service that verifies with `keytab`."""
    environment = lab.exec("hub", "systemctl", "show", "-p", "Environment", "--value", "jupyterhub").stdout.split()
    krb5_config = next(v for v in environment if v.startswith("KRB5_CONFIG="))
    service = "unchained-test-keytab"
    pam = lab.exec("hub", "cat", "/etc/pam.d/jupyterhub").stdout
    assert f"keytab={KEYTAB}" in pam, pam
    lab.exec("hub", "tee", f"/etc/pam.d/{service}", input=pam.replace(f"keytab={KEYTAB}", f"keytab={keytab}"))
    try:
        return lab.exec("hub", "runuser", "-u", "jupyterhub", "--", "env", krb5_config, HUB_PYTHON, "-c",
                        PAM_CHECK, user, service, input=PASSWORDS[user] + "\n").stdout.strip()
    finally:
        lab.exec("hub", "rm", "-f", f"/etc/pam.d/{service}")


def test_a_login_is_verified_with_the_hubs_keytab_and_refused_without_it(lab):
    since = time.time() - 1
    status, page, cookies = login(lab, "erin", PASSWORDS["erin"])
    assert status == 200 and "jupyterhub-hub-login" in cookies, (status, page[:300])
    # The hub asked the KDC for a ticket to its own principal, to open it with its key.
    kdc_log = lab.exec("kdc", "journalctl", "-u", "krb5-kdc", "--since", f"@{since:.0f}", "-o", "cat").stdout
    assert re.search(rf"TGS_REQ .* erin@LAB\.TEST for {re.escape(HUB_PRINCIPAL)}", kdc_log), kdc_log[-2000:]

    wrong = "/etc/jupyterhub/test-wrong.keytab"
    lab.exec("hub", "sh", "-c", f"rm -f {wrong} && printf 'addent -password -p {HUB_PRINCIPAL} -k 1 "
                                f"-e aes256-cts-hmac-sha1-96\\nnot-the-hubs-key\\nwrite_kt {wrong}\\n' | ktutil "
                                f"&& chgrp jupyterhub {wrong} && chmod 0640 {wrong}")
    try:
        # The right password, the real KDC: only the key differs. A spoofed
        # KDC, which has no key of the hub's, is in the same place.
        assert pam_check(lab, "erin", KEYTAB) == "accepted"
        assert pam_check(lab, "erin", wrong).startswith("refused"), "a ticket the hub's key cannot open was let in"
        # No keytab at all: refused too, not let through unverified.
        assert pam_check(lab, "erin", "/etc/jupyterhub/missing.keytab").startswith("refused")
    finally:
        lab.exec("hub", "rm", "-f", wrong)


# -- 3. lockout ----------------------------------------------------------------------

def test_five_wrong_passwords_lock_the_principal_and_the_hub_says_so(lab):
    """dave: five wrong passwords lock his principal (kdc.lab.test.yaml: for
    one minute). The fifth's answer already says so, and so does the sixth
    attempt's, whatever its password."""
    kadmin(lab, "modprinc -unlock dave")
    # The KDC forgets failures up to the second of an unlock (so counts
    # none that soon): begin after it.
    time.sleep(2)
    for attempt in range(1, 5):
        status, page, _ = login(lab, "dave", "not-his-password")
        assert status == 403 and "Invalid username or password" in page, (attempt, status, page[-500:])
    for attempt, password in ((5, "not-his-password"), (6, "not-his-password"), (7, PASSWORDS["dave"])):
        status, page, cookies = login(lab, "dave", password)
        if attempt == 5:
            locked_at = time.monotonic()
        message = re.search(r"Too many failed logins[^<]*", page)
        print(f"\nattempt {attempt} ({'right' if password == PASSWORDS['dave'] else 'wrong'} password): {status} "
              f"{message and message.group(0)!r}")
        assert status == 403 and "jupyterhub-hub-login" not in cookies
        assert message and "Try again in 1 minute;" in message.group(0), page[-1500:]
        assert 'name="password"' in page  # on the login form, to try again
    assert "Failed password attempts: 5" in kadmin(lab, "getprinc dave")

    def logs_in():
        status, _, cookies = login(lab, "dave", PASSWORDS["dave"])
        return status == 200 and "jupyterhub-hub-login" in cookies

    wait_for(logs_in, 90, "dave's lock to end", interval=5)
    held = time.monotonic() - locked_at
    print(f"dave's principal was locked for {held:.0f} s")
    assert 55 <= held <= 80, held


# -- 4. renewal ----------------------------------------------------------------------

def session(cookies):
    jar = http.cookiejar.CookieJar()
    for cookie in cookies.values():
        jar.set_cookie(cookie)
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                       urllib.request.HTTPSHandler(context=client_context()))


def times(lab, user):
    """(valid from, renewable until) of the user's ticket-granting ticket, as klist prints them."""
    match = re.search(r"^(\S+ \S+)\s+\S+ \S+\s+krbtgt/\S+\n\s+renew until (\S+ \S+)$", klist(lab, user), re.M)
    assert match, klist(lab, user)
    return match.groups()


def test_a_running_servers_ticket_is_renewed_until_its_renewable_life_ends(lab, hub, servers):
    """SLOW, about 6 minutes. erin's principal gets 1-minute tickets renewable
    for 4 minutes (the lab's clocks are one, clockskew 10 s: an expired ticket
    is refused within seconds). Her server's tunnel is killed every minute
    and must come back, which takes a valid ticket, long after the one her
    login gave would have expired. Once the renewable life is over, the hub
    says she must log in again, and a login mends it."""
    kadmin(lab, 'modprinc -maxlife "60 seconds" -maxrenewlife "240 seconds" erin')
    try:
        lab.exec("hub", "kdestroy", user="erin", check=False)
        since = time.time() - 1
        status, page, cookies = login(lab, "erin", PASSWORDS["erin"])
        assert status == 200, (status, page[:300])
        logged_in = time.monotonic()
        first = times(lab, "erin")
        spawn(hub, servers, "erin", options=SMALL)
        cluster = job_of(hub, "erin")["cluster"]
        for minute in (1, 2, 3):
            time.sleep(max(0, logged_in + 60 * minute + 5 - time.monotonic()))
            pids = tunnel_pids(lab, "erin", cluster)
            assert len(pids) == 1, pids
            lab.exec("hub", "kill", "-9", pids[0])
            killed = time.monotonic()
            wait_for(lambda: answers(hub, "erin", ""), 30, f"erin's server to answer again (minute {minute})",
                     interval=0.2)
            now = times(lab, "erin")
            print(f"\nminute {minute}: tunnel back after {time.monotonic() - killed:.1f} s; ticket valid from "
                  f"{now[0]} (login's from {first[0]}), renewable until {now[1]}")
            assert now[0] != first[0] and now[1] == first[1]
            assert tunnel_pids(lab, "erin", cluster) != pids
        # Past the renewable life (4 minutes), and one renewal interval (20 s) more.
        time.sleep(max(0, logged_in + 240 + 30 - time.monotonic()))
        log = wait_for(lambda: "Could not renew the Kerberos ticket of erin" in hub_log_since(lab, since)
                       and hub_log_since(lab, since), 30, "the hub to say erin's ticket could not be renewed")
        print(next(line for line in log.splitlines() if "Could not renew" in line))
        assert "log in to the hub again" in log
        # Renewed as erin, through the exact sudo rule.
        assert "USER=erin ; COMMAND=/usr/bin/kinit -R" in log
        # The hub sends her to the login page (auth_refresh_age: 20 s in the lab).
        time.sleep(21)
        with session(cookies).open(f"{lab.labctl('url').stdout.strip()}hub/home", timeout=30) as answer:
            assert "/hub/login" in answer.url, answer.url
            page = answer.read().decode()
        # ... whose page says why and what to do.
        assert "Your Kerberos ticket could no longer be renewed" in page and "Log in again" in page, page
        assert "erin must log in again" in hub_log_since(lab, since)
        # A login mends it: a new ticket, renewed again, and the tunnel comes back on it.
        status, _, _ = login(lab, "erin", PASSWORDS["erin"])
        assert status == 200
        assert times(lab, "erin")[1] != first[1]
        lab.exec("hub", "kill", "-9", *tunnel_pids(lab, "erin", cluster))
        wait_for(lambda: answers(hub, "erin", ""), 30, "erin's server to answer after her new login", interval=0.2)
    finally:
        kadmin(lab, 'modprinc -maxlife "86400 seconds" -maxrenewlife "604800 seconds" erin')

