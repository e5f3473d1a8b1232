"""The lab network: one namespace per host, joined by a bridge on the host machine.

Hosts get an address on the lab subnet and no default route, so they reach
each other and the host machine and nothing else. Execute hosts get a
firewall in their namespace that drops every inbound connection that is not
a reply, as a NAT or site firewall would.
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

# On the host machine: nothing from the lab is forwarded anywhere. Traffic
# between lab hosts stays on the bridge, but where br_netfilter is loaded
# (container tools load it) bridged packets pass this hook too, so they are
# accepted first.
NO_FORWARD = f"""
table inet unchained_lab {{
    chain forward {{
        type filter hook forward priority 0; policy accept;
        iifname "{config.BRIDGE}" oifname "{config.BRIDGE}" accept
        iifname "{config.BRIDGE}" drop
        oifname "{config.BRIDGE}" drop
    }}
}}
"""


def link_exists(name):
    return run(["ip", "link", "show", name], check=False).returncode == 0


def netns_exists(name):
    return Path("/run/netns", name).exists()


def ensure_bridge():
    if link_exists(config.BRIDGE):
        return
    run(["ip", "link", "add", config.BRIDGE, "type", "bridge"], step="creating the lab bridge")
    run(["ip", "addr", "add", f"{config.BRIDGE_ADDRESS}/24", "dev", config.BRIDGE], step="addressing the lab bridge")
    run(["ip", "link", "set", config.BRIDGE, "up"], step="bringing up the lab bridge")
    run(["nft", "-f", "-"], input=NO_FORWARD, step="host firewall for the lab")


def ensure_host_network(host):
    if netns_exists(host.netns):
        return
    ns = ["ip", "netns", "exec", host.netns]
    run(["ip", "netns", "add", host.netns], step=f"network namespace for {host.name}")
    run(["ip", "link", "add", host.veth, "type", "veth", "peer", "name", "host0", "netns", host.netns],
        step=f"veth for {host.name}")
    run(["ip", "link", "set", host.veth, "master", config.BRIDGE, "up"], step=f"attaching {host.name}")
    run([*ns, "ip", "addr", "add", f"{host.address}/24", "dev", "host0"], step=f"addressing {host.name}")
    run([*ns, "ip", "link", "set", "host0", "up"], step=f"link up in {host.name}")
    run([*ns, "ip", "link", "set", "lo", "up"], step=f"loopback in {host.name}")
    if host.firewalled:
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
    if link_exists(config.BRIDGE):
        run(["ip", "link", "delete", config.BRIDGE], step="removing the lab bridge")
    run(["nft", "delete", "table", "inet", "unchained_lab"], check=False)


def hosts_file():
    lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback",
             f"{config.BRIDGE_ADDRESS} labhost.{config.DOMAIN} labhost"]
    lines += [f"{h.address} {h.fqdn} {h.name}" for h in config.HOSTS]
    return "\n".join(lines) + "\n"

