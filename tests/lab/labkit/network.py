"""The lab network: one namespace per host, joined by a bridge per site on
the host machine, and a router between the sites.

Hosts get an address on their site's subnet, a route to the other site
through the router, and no default route, so they reach the lab and nothing
else. Site A's execute hosts get a firewall in their namespace that drops
every inbound connection that is not a reply, as a NAT or site firewall
would; site B's hosts accept connections from their own site only (and its
login host ssh). The router (the WAN, with both sites' firewalls) forwards
only what a site using the overlay pool opens: site B's nodes to HTCondor's
shared port on the central manager and the hub, and the overlay manager to
site B's login host by ssh.
"""

from pathlib import Path

from . import config
from .config import LabError
from .run import run

FIREWALL = """
table inet unchained_lab {
    chain input {
        type filter hook input priority 0; policy drop;
        iif "lo" accept
        ct state established,related accept
    }
}
"""

SITE_B_FIREWALL = """
table inet unchained_lab {{
    chain input {{
        type filter hook input priority 0; policy drop;
        iif "lo" accept
        ct state established,related accept
        ip saddr {subnet} accept
{extra}    }}
}}
"""
LOGIN_HOST_SSH = "        tcp dport 22 accept\n"

# On the host machine: nothing from the lab is forwarded anywhere. Traffic
# between lab hosts stays on their bridge, but where br_netfilter is loaded
# (container tools load it) bridged packets pass this hook too, so they are
# accepted first.
NO_FORWARD = "\n".join([
    "table inet unchained_lab {",
    "    chain forward {",
    "        type filter hook forward priority 0; policy accept;",
    *(f'        iifname "{site.bridge}" oifname "{site.bridge}" accept' for site in config.SITES),
    *(f'        iifname "{site.bridge}" drop\n        oifname "{site.bridge}" drop' for site in config.SITES),
    "    }",
    "}",
]) + "\n"


def wan_rules():
    """The router's forwarding policy between the sites, by address."""
    shared_port = {config.host("cm").address, config.host(config.SUBMIT_HOST).address}
    overlay_manager = config.host(config.OVERLAY_MANAGER).address
    login = config.host(config.SITE_B_LOGIN).address
    return f"""
table inet unchained_wan {{
    chain forward {{
        type filter hook forward priority 0; policy drop;
        ct state established,related accept
        iifname "site-b" ip daddr {{ {", ".join(sorted(shared_port))} }} tcp dport 9618 accept
        iifname "site-a" ip saddr {overlay_manager} ip daddr {login} tcp dport 22 accept
    }}
}}
"""


def link_exists(name):
    return run(["ip", "link", "show", name], check=False).returncode == 0


def netns_exists(name):
    return Path("/run/netns", name).exists()


def ensure_bridge():
    """Both sites' bridges and the router between them."""
    for site in config.SITES:
        if link_exists(site.bridge):
            continue
        run(["ip", "link", "add", site.bridge, "type", "bridge"], step=f"creating site {site.name}'s bridge")
        if site == config.SITE_A:
            run(["ip", "addr", "add", f"{config.BRIDGE_ADDRESS}/24", "dev", site.bridge],
                step="addressing the lab bridge")
        run(["ip", "link", "set", site.bridge, "up"], step=f"bringing up site {site.name}'s bridge")
    if not netns_exists(config.WAN_NETNS):
        run(["nft", "-f", "-"], input=NO_FORWARD, step="host firewall for the lab")
        ns = ["ip", "netns", "exec", config.WAN_NETNS]
        run(["ip", "netns", "add", config.WAN_NETNS], step="the WAN router's namespace")
        for site in config.SITES:
            outside, inside = f"unlab-wan-{site.name}", f"site-{site.name}"
            run(["ip", "link", "add", outside, "type", "veth", "peer", "name", inside, "netns", config.WAN_NETNS],
                step=f"the WAN router's leg into site {site.name}")
            run(["ip", "link", "set", outside, "master", site.bridge, "up"],
                step=f"attaching the router to {site.name}")
            run([*ns, "ip", "addr", "add", f"{site.router}/24", "dev", inside], step="addressing the router")
            run([*ns, "ip", "link", "set", "dev", inside, "up"], step="router link up")
        run([*ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], step="forwarding in the router")
        run([*ns, "nft", "-f", "-"], input=wan_rules(), step="the WAN router's firewall")


def ensure_host_network(host):
    if netns_exists(host.netns):
        return
    site = host.site
    ns = ["ip", "netns", "exec", host.netns]
    run(["ip", "netns", "add", host.netns], step=f"network namespace for {host.name}")
    run(["ip", "link", "add", host.veth, "type", "veth", "peer", "name", "host0", "netns", host.netns],
        step=f"veth for {host.name}")
    run(["ip", "link", "set", host.veth, "master", site.bridge, "up"], step=f"attaching {host.name}")
    run([*ns, "ip", "addr", "add", f"{host.address}/24", "dev", "host0"], step=f"addressing {host.name}")
    run([*ns, "ip", "link", "set", "host0", "up"], step=f"link up in {host.name}")
    run([*ns, "ip", "link", "set", "lo", "up"], step=f"loopback in {host.name}")
    for other in config.SITES:
        if other != site:
            run([*ns, "ip", "route", "add", other.subnet, "via", site.router],
                step=f"{host.name}'s route to site {other.name}")
    if site == config.SITE_B:
        extra = LOGIN_HOST_SSH if host.name == config.SITE_B_LOGIN else ""
        run([*ns, "nft", "-f", "-"], input=SITE_B_FIREWALL.format(subnet=site.subnet, extra=extra),
            step=f"firewall of {host.name}")
    elif host.firewalled:
        run([*ns, "nft", "-f", "-"], input=FIREWALL, step=f"firewall of {host.name}")


def remove_host_network(host):
    if netns_exists(host.netns):
        # Deleting the namespace deletes the veth pair with it.
        run(["ip", "netns", "delete", host.netns], step=f"removing the namespace of {host.name}")
    # The kernel removes the veth with the namespace, but not always before
    # we look, so a failed delete counts only if the link is still there.
    if link_exists(host.veth):
        result = run(["ip", "link", "delete", host.veth], check=False)
        if result.returncode != 0 and link_exists(host.veth):
            raise LabError(f"removing the veth of {host.name} failed: {result.stderr.strip()}")


def remove_bridge():
    if netns_exists(config.WAN_NETNS):
        run(["ip", "netns", "delete", config.WAN_NETNS], step="removing the WAN router")
    for site in config.SITES:
        if link_exists(f"unlab-wan-{site.name}"):
            run(["ip", "link", "delete", f"unlab-wan-{site.name}"], check=False)
        if link_exists(site.bridge):
            run(["ip", "link", "delete", site.bridge], step=f"removing site {site.name}'s bridge")
    run(["nft", "delete", "table", "inet", "unchained_lab"], check=False)


def hosts_file():
    lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback",
             f"{config.BRIDGE_ADDRESS} labhost.{config.DOMAIN} labhost"]
    lines += [f"{h.address} {h.fqdn} {h.name}" for h in config.HOSTS]
    return "\n".join(lines) + "\n"

