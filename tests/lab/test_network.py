"""The lab network: execute hosts accept no inbound connection; no host reaches outside."""

import json

import pytest
from labtest import connect, connect_all


def listening_ports(lab, host):
    out = lab.exec(host, "ss", "-Hltn").stdout
    ports = {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines()}
    return sorted(ports)


@pytest.mark.parametrize("worker", ["ex1", "ex2"])
def test_inbound_connections_to_execute_hosts_time_out(lab, worker):
    ports = listening_ports(lab, worker)
    # HTCondor's shared port and sshd listen there, so the drop is the firewall's doing.
    assert 9618 in ports and 22 in ports, ports
    results = connect_all(lab, "hub", f"{worker}.lab.test", ports + [1])
    assert results == {port: "timeout" for port in ports + [1]}


@pytest.mark.parametrize("worker", ["ex1", "ex2"])
def test_execute_hosts_connect_out(lab, worker):
    assert connect(lab, worker, "cm.lab.test", 9618) == "connected"
    assert connect(lab, worker, "hub.lab.test", 9618) == "connected"


def test_non_execute_hosts_accept_connections(lab):
    # Control for the tests above: the same probe does connect where nothing drops.
    assert connect(lab, "hub", "cm.lab.test", 9618) == "connected"


@pytest.mark.parametrize("host", ["cm", "hub", "ex1", "ex2", "om"])
def test_hosts_have_no_route_beyond_the_lab(lab, host):
    routes = json.loads(lab.exec(host, "ip", "-j", "route", "show", "table", "all").stdout)
    ipv4 = [r for r in routes if r.get("table") != "local" and not r["dst"].startswith(("fe80", "ff00", "::1"))]
    # Its own subnet, and site B's through the WAN router (test_scale_out.py
    # proves what the router lets through).
    assert sorted((r["dst"], r.get("gateway")) for r in ipv4) == [
        ("10.77.0.0/24", None), ("10.78.0.0/24", "10.77.0.254")], routes
    # Asking the kernel for a route sends nothing.
    result = lab.exec(host, "ip", "route", "get", "203.0.113.1", check=False)
    assert result.returncode != 0 and "unreachable" in result.stderr
