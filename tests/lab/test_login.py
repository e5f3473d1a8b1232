"""Logging in to the hub with the site's Kerberos password (real KDC on the
host kdc, pam_krb5 in the hub's own PAM service, JupyterHub's login form),
and the ticket cache that a login leaves the user."""

import http.cookiejar
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request

import pytest
from hubclient import SMALL
from labkit.tls import client_context
from labtest import GUEST_CA, LAB_DIR, PASSWORDS, kinit
from secretscan import Sampler, files_holding, journal_holds


def login(lab, user, password):
    """(status, page, cookies by name) of JupyterHub's login form, as a browser posts it."""
    base = lab.labctl("url").stdout.strip().rstrip("/")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                          urllib.request.HTTPSHandler(context=client_context()))
    page = opener.open(f"{base}/hub/login", timeout=30).read().decode()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf}).encode()
    try:
        with opener.open(f"{base}/hub/login", data=form, timeout=60) as answer:
            status, page = answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        status, page = e.code, e.read().decode()
    return status, page, {c.name: c for c in jar}


def test_a_wrong_password_is_refused_and_makes_no_session(lab):
    status, page, cookies = login(lab, "alice", "not-her-password")
    assert status == 403, status
    assert "Invalid username or password" in page
    assert "jupyterhub-hub-login" not in cookies


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_a_login_leaves_the_user_a_ticket_cache_of_their_own(lab, user):
    lab.exec("hub", "kdestroy", user=user, check=False)
    status, page, cookies = login(lab, user, PASSWORDS[user])
    assert status == 200 and "jupyterhub-hub-login" in cookies, (status, page[:300])
    assert cookies["jupyterhub-hub-login"].secure
    klist = lab.exec("hub", "klist", user=user).stdout
    assert f"Default principal: {user}@LAB.TEST" in klist, klist
    assert "krbtgt/LAB.TEST@LAB.TEST" in klist
    cache = re.search(r"Ticket cache: FILE:(\S+)", klist).group(1)
    mode_owner = lab.exec("hub", "stat", "-c", "%a %U", cache).stdout.split()
    assert mode_owner == ["600", user], mode_owner
    # Nobody else can read it, the hub's account included (which has no home,
    # so runuser rather than exec's user=).
    denied = lab.exec("hub", "runuser", "-u", "jupyterhub", "--", "cat", cache, check=False)
    assert denied.returncode != 0 and "Permission denied" in denied.stderr, denied


def test_a_user_the_hub_may_not_act_for_cannot_log_in(lab):
    """carol has a principal but is not in jupyterhub-users: the hub cannot
    give her a ticket cache, so it refuses the login and its log says why."""
    status, _, cookies = login(lab, "carol", PASSWORDS["carol"])
    assert status == 403 and "jupyterhub-hub-login" not in cookies
    log = lab.exec("hub", "journalctl", "-u", "jupyterhub", "--since", "-2min", "-o", "cat").stdout
    assert "Login of carol refused: kinit failed" in log, log[-2000:]


def test_the_password_is_in_no_log_or_command_line(lab):
    """alice's password, looked for while she logs in and after: in no process's
    command line or environment on the hub or the KDC at any sample
    (`secretscan.Sampler`, about 90 times a second from before the login
    until it is done: JupyterHub checks it through PAM in its own process and
    gives it to `kinit` on standard input), in no file under
    `secretscan.PLACES` and in neither host's journal."""
    samplers = [Sampler(host) for host in ("hub", "kdc")]
    try:
        status, _, cookies = login(lab, "alice", PASSWORDS["alice"])
        assert status == 200 and "jupyterhub-hub-login" in cookies
        reports = {sampler.host: sampler.finish(PASSWORDS["alice"]) for sampler in samplers}
    finally:
        for sampler in samplers:
            sampler.stop()
    for host, report in reports.items():
        print(f"{host}: {report['samples']} samples of {report['processes']} processes in {report['seconds']} s")
        assert report["hits"] == [], f"the password in processes on {host}: {report['hits']}"
        assert files_holding(lab, host, PASSWORDS["alice"]) == [], f"the password in files on {host}"
        assert not journal_holds(lab, host, PASSWORDS["alice"]), f"the password in the journal of {host}"


def test_the_hub_speaks_https_only_with_a_certificate_from_the_site_ca(lab):
    """Every TCP port the hub host listens on (`ss -ltnp`), tried from ex1 and
    cm, either speaks TLS with the certificate from the site's CA, or cannot be
    reached from them, or is one of two services that are not HTTP and encrypt
    by themselves, and is checked to be so: sshd (its banner), and HTCondor's
    daemons (CEDAR, which the pool's configuration makes authenticate and
    encrypt: SEC_DEFAULT_AUTHENTICATION and SEC_DEFAULT_ENCRYPTION REQUIRED).
    None answers a plain HTTP request with HTTP."""
    url = lab.labctl("url").stdout.strip()
    assert url.startswith("https://")
    with urllib.request.urlopen(url + "hub/api/", timeout=10, context=client_context()) as answer:
        assert answer.status == 200
    with pytest.raises(urllib.error.URLError) as refused:  # not trusted without the lab's CA
        urllib.request.urlopen(url + "hub/api/", timeout=10, context=ssl.create_default_context())
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)

    listeners = {}  # port: the names of the processes listening on it
    for line in lab.exec("hub", "ss", "-ltnpH").stdout.splitlines():
        port = int(line.split()[3].rsplit(":", 1)[1])
        listeners.setdefault(port, set()).update(re.findall(r'\(\("([^"]+)"', line))
    assert 8000 in listeners and 9618 in listeners and 22 in listeners, listeners
    security = lab.exec("hub", "condor_config_val", "SEC_DEFAULT_AUTHENTICATION",
                        "SEC_DEFAULT_ENCRYPTION").stdout.split()
    source = (LAB_DIR / "guest" / "port_probe.py").read_text()
    for host in ("ex1", "cm"):
        out = lab.exec(host, "python3", "-c", source, "hub.lab.test", GUEST_CA, *map(str, sorted(listeners)),
                       timeout=300).stdout
        for probe in map(json.loads, out.splitlines()):
            port, names = probe["port"], listeners[probe["port"]]
            seen = f"port {port} of the hub ({', '.join(sorted(names))}) from {host}: {probe}"
            print(seen)
            if probe["connect"] != "connected":
                continue
            assert not probe["plain"].startswith("HTTP/"), seen
            if probe["tls"]:
                continue
            if names == {"sshd"}:
                assert probe["plain"].startswith("SSH-2.0-"), seen
            else:
                assert all(name.startswith("condor_") for name in names), seen
                assert [v.lower() for v in security] == ["required", "required"], security
    # Among those tried: the hub's plain HTTP ports (its API, its proxy's API).
    assert {8081, 8001} <= set(listeners), listeners


def test_without_a_ticket_htcondor_refuses_and_the_hub_says_log_in_again(lab, hub, servers):
    """unchained_htcondor::user_kerberos: the hub's schedd takes a user's changes only
    with a valid Kerberos ticket; queries need none."""
    lab.exec("hub", "kdestroy", user="bob")
    try:
        direct = lab.exec("hub", "condor_submit", "-terse", "-", user="bob",
                          input="executable = /bin/true\nqueue\n", check=False)
        assert direct.returncode != 0 and "Failed to authenticate using KERBEROS" in direct.stderr, direct
        assert lab.exec("hub", "condor_q", "-af", "ClusterId", user="bob").returncode == 0
        # Through the hub, as after a login long ago whose ticket has expired.
        servers.append(("bob", "noticket"))
        status, body = hub.start("bob", "noticket", SMALL)
        if status == 202:
            events = hub.progress("bob", "noticket", timeout=60)
            assert events and events[-1].get("failed"), events
            text = "\n".join(e.get("message", "") for e in events)
        else:
            text = body.get("message", "")
        print(f"\nspawn without a ticket: {status} {text!r}")
        assert "the Kerberos ticket from your login is missing or has expired. Log out of the hub and log in " \
               "again" in text, text
        assert bob_jobs(lab) == []
    finally:
        kinit(lab, "bob")
    # With a ticket again, the same works.
    direct = lab.exec("hub", "condor_submit", "-terse", "-", user="bob",
                      input="executable = /bin/true\nhold = true\nqueue\n")
    cluster = direct.stdout.split(".")[0]
    lab.exec("hub", "condor_rm", cluster, user="bob")


def bob_jobs(lab):
    return lab.exec("hub", "condor_q", "-all", "-constraint", 'Owner == "bob"', "-af", "ClusterId").stdout.split()
