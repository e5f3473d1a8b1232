"""The site's additions to every notebook job (`c.UnchainedSpawner.job_additions`).

An admin adds to the submit description, from Hiera: a requirement every
notebook job must meet (`requirements`, a ClassAd expression), the accounting
group the job is charged to (`accounting_groups`: by user, else by the
user's first Unix group listed, else a default) and attributes of the site's
own (`attributes`). `load` checks them all when the hub makes a spawner, or
raises ValueError naming the key; `lines_for` gives a user's submit lines.

The rules are those of every other value the hub writes into a submit
description (`contract.SAFE`), widened only where the kind of value needs
it: a requirement needs spaces, quotes and operators, never a line break,
`$` (a submit macro), `#` or a backslash.
"""

import math
import re
from dataclasses import dataclass

from .contract import SAFE, USERNAME

KEYS = ("requirements", "accounting_groups", "attributes")
GROUP_KEYS = ("users", "unix_groups", "default")
# HTCondor's accounting group names: dotted, like group_physics.cms.
ACCOUNTING_GROUP = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
UNIX_GROUP = re.compile(r"[a-z_][a-z0-9_.-]{0,31}")
EXPRESSION = re.compile(r'[A-Za-z0-9_.:@+=,<>!&|()" *-]{1,2000}')
ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# Attributes a site may not set: ours, and those that carry the job's own
# definition, limits and accounting (which have settings of their own).
RESERVED_PREFIXES = ("unchained", "request", "periodic", "onexit", "transfer", "acct", "accounting", "job")
RESERVED = frozenset({
    "requirements", "rank", "owner", "user", "cmd", "args", "arguments", "env", "environment", "iwd",
    "in", "out", "err", "universe", "containerimage", "wantcontainer", "shouldtransferfiles",
    "whentotransferoutput", "spoolonevict", "notification", "nicenusr", "concurrencylimits",
})


@dataclass(frozen=True)
class JobAdditions:
    requirements: str = None
    users: tuple = ()  # (user, accounting group)
    unix_groups: tuple = ()  # (Unix group, accounting group), first match wins
    default_group: str = None
    attributes: tuple = ()  # (name, ClassAd literal)

    def accounting_group(self, user, unix_groups):
        """The accounting group a user's jobs are charged to, or None."""
        for name, group in self.users:
            if name == user:
                return group
        for unix_group, group in self.unix_groups:
            if unix_group in unix_groups:
                return group
        return self.default_group

    def lines_for(self, user, unix_groups):
        """Submit lines for a job of `user`, a member of `unix_groups`."""
        if not USERNAME.fullmatch(user):
            raise ValueError(f"user name {user!r} is not a local user name")
        lines = [f"+{name} = {value}" for name, value in self.attributes]
        group = self.accounting_group(user, set(unix_groups))
        if group:
            lines += [f"accounting_group = {group}", f"accounting_group_user = {user}"]
        return lines


def load(config):
    """The admin's `job_additions` (a dict, possibly empty), checked."""
    config = _dict({"job_additions": config}, "job_additions", "")
    _known(config, KEYS, "job_additions")
    groups = _dict(config, "accounting_groups", "job_additions.")
    _known(groups, GROUP_KEYS, "job_additions.accounting_groups")
    where = "job_additions.accounting_groups."
    requirements, default = config.get("requirements"), groups.get("default")
    return JobAdditions(
        requirements=None if requirements is None else _expression(requirements, "job_additions.requirements"),
        users=_mapping(_dict(groups, "users", where), USERNAME, f"{where}users", "a local user name"),
        unix_groups=_mapping(_dict(groups, "unix_groups", where), UNIX_GROUP, f"{where}unix_groups",
                             "a Unix group name"),
        default_group=None if default is None else _group(default, f"{where}default"),
        attributes=tuple((_attribute_name(name), _literal(value, f"job_additions.attributes.{name}"))
                         for name, value in _dict(config, "attributes", "job_additions.").items()),
    )


def _dict(config, key, where):
    """config[key], a dict, or {} if it is not set."""
    value = config.get(key) or {}
    if not isinstance(value, dict):
        raise ValueError(f"{where}{key} must be a dict")
    return value


def _known(config, keys, where):
    unknown = sorted(set(config) - set(keys))
    if unknown:
        raise ValueError(f"{where} has unknown key {unknown[0]!r}; known: {', '.join(keys)}")


def _mapping(config, key_pattern, where, what):
    pairs = []
    for key, group in config.items():
        if not isinstance(key, str) or not key_pattern.fullmatch(key):
            raise ValueError(f"{where}: {key!r} is not {what}")
        pairs.append((key, _group(group, f"{where}.{key}")))
    return tuple(pairs)


def _group(value, where):
    if not isinstance(value, str) or not ACCOUNTING_GROUP.fullmatch(value):
        raise ValueError(f"{where} = {value!r}: an accounting group name is letters, digits and `_.-`, "
                         "like group_physics.cms")
    return value


def _expression(value, where):
    if not isinstance(value, str) or not EXPRESSION.fullmatch(value) or value.count('"') % 2:
        raise ValueError(f"{where} = {value!r}: a ClassAd expression on one line, of letters, digits, "
                         'spaces, quotes (in pairs) and `_.:@+=,<>!&|()*-`; no `$`, `#`, backslash or line break')
    return value


def _attribute_name(name):
    if not isinstance(name, str) or not ATTRIBUTE.fullmatch(name):
        raise ValueError(f"job_additions.attributes: {name!r} is not a ClassAd attribute name")
    lowered = name.lower()
    if lowered in RESERVED or lowered.startswith(RESERVED_PREFIXES):
        raise ValueError(f"job_additions.attributes: {name} is the hub's or HTCondor's own; "
                         "use requirements or accounting_groups, or a name of the site's own")
    return name


def _literal(value, where):
    """A ClassAd literal: a number, true/false, or a string of SAFE characters."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return repr(value)
    if isinstance(value, str) and SAFE.fullmatch(value):
        return f'"{value}"'
    raise ValueError(f"{where} = {value!r}: a number, true or false, or text of letters, digits and "
                     "`_./:@+=,-` only")
