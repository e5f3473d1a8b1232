"""The one rule by which the bench opens the workers' firewall for the baseline.

Stock batchspawner reaches the notebook server on the worker directly, which
the lab's execute hosts refuse (tests/lab/labkit/network.py gives them a
firewall that drops every inbound connection). The bench opens exactly one
rule for it, only while it measures the baseline, and closes it again
(README.md; baseline.py decides when). Nothing in the lab uses this module.
"""

import json

from labkit.config import LabError
from labkit.run import run

BASELINE_RULE_COMMENT = "unchained-bench-baseline"


def baseline_rule_handles(nft_json):
    """Handles of the bench's rules in `nft -j -a list chain inet unchained_lab input`."""
    handles = []
    for item in json.loads(nft_json).get("nftables", []):
        rule = item.get("rule")
        if rule and rule.get("comment") == BASELINE_RULE_COMMENT:
            handles.append(rule["handle"])
    return handles


def baseline_rule(source, ports):
    """The one rule: TCP from `source` (the hub) to ports `ports` (low, high)."""
    low, high = (int(p) for p in ports)
    return (f"add rule inet unchained_lab input ip saddr {source} tcp dport {low}-{high} "
            f'accept comment "{BASELINE_RULE_COMMENT}"\n')


def _nft(host, *args, input=None, check=True):
    return run(["ip", "netns", "exec", host.netns, "nft", *args], input=input, check=check,
               step=f"nft in {host.name}'s namespace")


def listed_baseline_rules(host):
    return baseline_rule_handles(_nft(host, "-j", "-a", "list", "chain", "inet", "unchained_lab", "input").stdout)


def ephemeral_ports(host):
    """The host's ephemeral port range, where batchspawner-singleuser's random port lies."""
    text = run(["ip", "netns", "exec", host.netns, "cat", "/proc/sys/net/ipv4/ip_local_port_range"],
               step=f"the ephemeral ports of {host.name}").stdout
    low, high = (int(v) for v in text.split())
    return low, high


def open_for_baseline(host, source):
    """Accept TCP from `source` to `host`'s ephemeral ports; idempotent."""
    if not host.firewalled:
        raise LabError(f"{host.name} has no firewall to open")
    if listed_baseline_rules(host):
        return
    _nft(host, "-f", "-", input=baseline_rule(source, ephemeral_ports(host)))


def close_for_baseline(host):
    """Remove the bench's rule from `host`; idempotent. Returns the handles removed."""
    handles = listed_baseline_rules(host)
    for handle in handles:
        _nft(host, "delete", "rule", "inet", "unchained_lab", "input", "handle", str(handle))
    if listed_baseline_rules(host):
        raise LabError(f"the bench's firewall rule is still in {host.name}'s firewall")
    return handles
