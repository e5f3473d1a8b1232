"""Where notebooks may run: the pool's sites, and which of them an
environment or a preset allows.

The admin names the sites (`UnchainedSpawner.sites`), as their workers
advertise them (`UnchainedSite`, set by Puppet: `unchained_htcondor::site`
for the pool's own workers, `unchained_htcondor::drone::site` for drones).
A site whose workers are drones (startds that an overlay manager starts in
another batch system's jobs when notebook jobs wait) is `on_demand`: a
notebook waits there for a drone to start, and runs only in a container
image, since a drone's unprivileged starter gives a job its private /tmp
only through the container.
"""

import re
from dataclasses import dataclass

SITE_ID = re.compile(r"[a-z][a-z0-9-]{0,31}")
KEYS = ("display_name", "on_demand")


@dataclass(frozen=True)
class Site:
    id: str
    display_name: str
    on_demand: bool = False


def load(config):
    """The admin's sites by id, in their order, or ValueError naming the entry."""
    if not isinstance(config, dict):
        raise ValueError("sites must be a dict of site id to {display_name, on_demand}")
    sites = {}
    for site_id, spec in config.items():
        where = f"sites[{site_id!r}]"
        if not isinstance(site_id, str) or not SITE_ID.fullmatch(site_id):
            raise ValueError(f"site id {site_id!r} must match {SITE_ID.pattern}, as UnchainedSite does")
        if not isinstance(spec, dict):
            raise ValueError(f"{where} must be a dict")
        unknown = sorted(set(spec) - set(KEYS))
        if unknown:
            raise ValueError(f"{where} has unknown key {unknown[0]!r}; known: {', '.join(KEYS)}")
        display_name = spec.get("display_name", site_id)
        on_demand = spec.get("on_demand", False)
        if not isinstance(display_name, str) or not display_name.strip():
            raise ValueError(f"{where}.display_name must be text")
        if not isinstance(on_demand, bool):
            raise ValueError(f"{where}.on_demand must be true or false")
        sites[site_id] = Site(site_id, display_name, on_demand)
    return sites


def allowed(value, sites, where):
    """A `sites` entry of an environment or preset: the ids of the sites it
    may run at, as a tuple; () for any site."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{where}.sites must be a non-empty list of site ids (leave it out for any site)")
    unknown = [site for site in value if site not in sites]
    if unknown:
        known = ", ".join(sites) or "none: set sites first"
        raise ValueError(f"{where}.sites names {str(unknown[0])[:40]!r}, which is not a site; known: {known}")
    return tuple(dict.fromkeys(value))


def requirements(allowed_sites, *, container, any_on_demand):
    """The job's requirements for where it may run: at one of `allowed_sites`
    (all if empty), and never on a drone without a container."""
    terms = []
    if allowed_sites:
        terms.append(" || ".join(f'(TARGET.UnchainedSite =?= "{site}")' for site in allowed_sites))
    if any_on_demand and not container:
        terms.append("(TARGET.UnchainedDrone =!= true)")
    return [f"({term})" if " || " in term else term for term in terms]


def _where(allowed_sites, sites):
    """The sites a job may run at: `allowed_sites`, or all if none."""
    return [sites[s] for s in allowed_sites] if allowed_sites else list(sites.values())


def waiting_message(cluster, allowed_sites, sites):
    """What the user reads while the job waits for a worker."""
    where = _where(allowed_sites, sites)
    on_demand = [s for s in where if s.on_demand]
    if on_demand and len(on_demand) == len(where):
        names = " or ".join(s.display_name for s in on_demand)
        return (f"Job {cluster}.0 is waiting for a worker at {names}; one is being started for it, "
                "which takes a minute or two")
    if on_demand:
        fixed = " or ".join(s.display_name for s in where if not s.on_demand)
        names = " or ".join(s.display_name for s in on_demand)
        return (f"Job {cluster}.0 is waiting for a machine at {fixed}; if none is free, a worker is "
                f"started for it at {names}")
    if allowed_sites:
        return f"Job {cluster}.0 is waiting for a machine at {' or '.join(s.display_name for s in where)}"
    return f"Job {cluster}.0 is waiting for a machine"


def on_demand_only(allowed_sites, sites):
    """Whether a job may run only where workers are started on demand."""
    where = _where(allowed_sites, sites)
    return bool(where) and all(site.on_demand for site in where)


def slow_drone_message(cluster, allowed_sites, sites, waited):
    """What the user reads when a drone takes longer to come than it should."""
    names = " or ".join(sites[s].display_name for s in allowed_sites) if allowed_sites else "a site"
    return (f"Job {cluster}.0 is still waiting for a worker at {names} after {waited:.0f} s: starting one "
            f"takes longer than usual ({names}'s batch system may be busy or down). It starts when a worker "
            "joins; your files are safe. Press Stop Server to give up, and tell the site admin if it keeps "
            "happening.")


def site_name(site_id, sites):
    """A worker's site as the user reads it ("" if unknown)."""
    site = sites.get(site_id) if isinstance(site_id, str) else None
    return site.display_name if site else ""
