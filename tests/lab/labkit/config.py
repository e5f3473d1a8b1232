"""Where the lab keeps things, and what it is made of."""

import os
from dataclasses import dataclass
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = LAB_DIR.parent.parent

# Built artefacts survive between runs and clones; everything under STATE_DIR
# belongs to one running lab and is removed by `labctl down`.
CACHE_DIR = Path(os.environ.get("UNCHAINED_LAB_CACHE", "/var/cache/unchained-lab"))
STATE_DIR = Path(os.environ.get("UNCHAINED_LAB_STATE", "/var/lib/unchained-lab"))
# Each host's cgroup is CGROUP_PARENT/NAME in the unified hierarchy (cgroups.py).
CGROUP_PARENT = "unchained-lab"

SUITE = "trixie"
# The Python of SUITE: wheels are fetched for it, not for the host machine's.
GUEST_PYTHON = "313"
MIRROR = os.environ.get("UNCHAINED_LAB_MIRROR", "http://deb.debian.org/debian")

DOMAIN = "lab.test"


@dataclass(frozen=True)
class Site:
    """A site of the lab: its own network segment (a bridge on the host
    machine) and DNS domain. Site A is ours; site B is another institute's
    Slurm cluster, joined to site A only through the WAN router (network.py)."""

    name: str
    bridge: str
    prefix: str
    domain: str

    @property
    def subnet(self):
        return f"{self.prefix}.0/24"

    @property
    def router(self):
        return f"{self.prefix}.254"


SITE_A = Site("a", "unlab0", "10.77.0", DOMAIN)
SITE_B = Site("b", "unlab1", "10.78.0", "siteb.test")
SITES = (SITE_A, SITE_B)
BRIDGE = SITE_A.bridge
SUBNET_PREFIX = SITE_A.prefix
# The host machine is on site A's segment only.
BRIDGE_ADDRESS = f"{SUBNET_PREFIX}.1"
# The network namespace of the router between the sites (the WAN and both
# sites' firewalls in one).
WAN_NETNS = "unlab-wan"

# Paths inside every lab host where the host machine's files appear (read-only).
GUEST_PUPPET_ENV = "/etc/puppet/code/environments/production"
GUEST_HIERA = "/etc/unchained-lab/hiera"
GUEST_SECRETS = "/etc/unchained-lab/secrets"
GUEST_APT = "/srv/unchained-lab/apt"
GUEST_WHEELS = "/srv/unchained-lab/wheels"
GUEST_DIST = "/srv/unchained-lab/dist"
# The hub's proxy (configurable-http-proxy from npm) as a tarball (npm.py).
GUEST_NPM = "/srv/unchained-lab/npm"
# The publisher's checkout of this project (read-only), from which it runs
# cvmfs/publish, and its stand-in for CVMFS storage (read-write).
GUEST_SOURCE = "/srv/unchained-lab/source"
GUEST_CVMFS_STORAGE = "/srv/cvmfs"
# The job image's Apptainer sandbox on execute hosts (read-only); a site
# keeps it on CVMFS.
GUEST_JOB_IMAGE = "/srv/unchained-lab/images/unchained-job"

# The notebook environment's CVMFS repository. Its published tree lives in
# STATE_DIR/cvmfs/REPO on this machine: the publisher writes it through the
# cvmfs_server test double; execute hosts see it read-only at /cvmfs/REPO,
# standing in for the CVMFS client mount.
CVMFS_REPO = "notebooks.lab.test"
CVMFS_SERVER_DOUBLE = f"{GUEST_SOURCE}/tests/doubles/cvmfs_server_double"
# The environment version labctl publishes (and makes the default) when the lab comes up.
NOTEBOOK_ENV = "jupyter"
NOTEBOOK_ENV_VERSION = "2026.11"

# Where the hub's proxy listens, as the host machine reaches it.
HUB_PORT = 8000
# The secrets labctl makes for the lab, as Hiera data (credentials.py).
SECRETS_FILE = "pool.yaml"
ADMIN_TOKEN_KEY = "unchained_hub::admin_services"
ADMIN_SERVICE = "lab-admin"


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    # Accepts no inbound connection from outside its own site; at site A,
    # none at all (execute hosts, as behind a NAT or site firewall).
    firewalled: bool
    site: Site = SITE_A
    # Runs notebook jobs: sees the job image and the CVMFS repository.
    runs_jobs: bool = False

    @property
    def fqdn(self):
        return f"{self.name}.{self.site.domain}"

    @property
    def netns(self):
        return f"unlab-{self.name}"

    @property
    def veth(self):
        return f"unlab-{self.name}"


# Site B's Slurm lists ten compute nodes (tests/lab/hiera/sites/siteb.test.yaml);
# the lab boots the first two, enough for the tests, or as many as
# UNCHAINED_LAB_SITE_B_NODES says. A drone has a node to itself and serves
# one notebook (its jobs all run as the drone account), so the bench's ten
# notebooks at once need all ten. Nodes not booted are down nodes to Slurm.
SITE_B_NODES_LISTED = 10
_nodes = os.environ.get("UNCHAINED_LAB_SITE_B_NODES", "2")
if not (_nodes.isdigit() and 1 <= int(_nodes) <= SITE_B_NODES_LISTED):
    raise SystemExit(f"UNCHAINED_LAB_SITE_B_NODES must be 1 to {SITE_B_NODES_LISTED}, not {_nodes!r}")
SITE_B_NODES = int(_nodes)


def site_b_node(n):
    return Host(f"sbn{n}", f"{SITE_B.prefix}.{20 + n}", firewalled=True, site=SITE_B, runs_jobs=True)


# The central manager comes first: labctl asks it about the pool.
_HOSTS_BUT_SITE_B_NODES = (
    Host("cm", f"{SUBNET_PREFIX}.10", firewalled=False),
    Host("hub", f"{SUBNET_PREFIX}.11", firewalled=False),
    Host("pub", f"{SUBNET_PREFIX}.12", firewalled=False),
    Host("kdc", f"{SUBNET_PREFIX}.13", firewalled=False),
    Host("mon", f"{SUBNET_PREFIX}.14", firewalled=False),
    Host("om", f"{SUBNET_PREFIX}.15", firewalled=False),
    Host("ex1", f"{SUBNET_PREFIX}.21", firewalled=True, runs_jobs=True),
    Host("ex2", f"{SUBNET_PREFIX}.22", firewalled=True, runs_jobs=True),
    # Site B: a Slurm controller that is also its login host, and compute
    # nodes, on which drones (startds in Slurm jobs) run notebook jobs.
    Host("sbctl", f"{SITE_B.prefix}.10", firewalled=True, site=SITE_B),
)
HOSTS = _HOSTS_BUT_SITE_B_NODES + tuple(site_b_node(n) for n in range(1, SITE_B_NODES + 1))
# Every host the lab may have run, for `labctl down`.
ALL_HOSTS = _HOSTS_BUT_SITE_B_NODES + tuple(site_b_node(n) for n in range(1, SITE_B_NODES_LISTED + 1))
# The pool's own workers, whose startds Puppet runs.
EXECUTE_HOSTS = tuple(h for h in HOSTS if h.runs_jobs and h.site == SITE_A)
SITE_B_HOSTS = tuple(h for h in HOSTS if h.site == SITE_B)

PUBLISHER = "pub"
# The overlay manager (COBalD/TARDIS), the one site A host that may reach
# site B's login host (by ssh), and that login host.
OVERLAY_MANAGER = "om"
SITE_B_LOGIN = "sbctl"
# The KDC, and the host whose schedd takes users' Kerberos tickets: it is
# configured once the KDC can give it its keytabs, by Hiera key: the
# schedd's, and the hub's own, which its logins are verified with.
KDC = "kdc"
SUBMIT_HOST = "hub"
KEYTABS = {
    "unchained_htcondor::kerberos_keytab": "host",
    "unchained_hub::pam::keytab_content": "jupyterhub",
}


def cvmfs_storage():
    return STATE_DIR / "cvmfs"


def secrets_dir():
    return STATE_DIR / "secrets"


def host(name):
    for h in HOSTS:
        if h.name == name:
            return h
    raise LabError(f"no lab host called {name!r}; the hosts are {', '.join(h.name for h in HOSTS)}")


class LabError(Exception):
    """A step of the lab failed; the message says which and where its logs are."""
