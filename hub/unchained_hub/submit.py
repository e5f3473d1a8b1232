"""The submit description of a notebook job, built from checked values only.

No user text reaches this module: the `Request` holds numbers and one of
the admin's environments, whose strings were checked when the hub started
(`environments.py`); every other string here (paths, the hub's id) is
checked against `contract.SAFE` before it is written. The hub's API token
is not here either: it reaches the job through the tunnel (see
`singleuser.py`), never the ClassAd.
"""

import re

from . import placement
from .contract import safe

HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}")

# The slot attribute that says which site a worker is at (placement.py), and
# the job attribute HTCondor copies it to where the job runs (job_machine_attrs).
SITE_ATTRIBUTE = "UnchainedSite"
SITE_OF_RUN = f"MachineAttr{SITE_ATTRIBUTE}0"
# The job attribute that lists the sites a job may run at.
SITES_ATTRIBUTE = "UnchainedSites"
# The job attribute that marks a job as this hub's.
HUB_ATTRIBUTE = "UnchainedHub"
# The job's run time limit in seconds, and the hold subcode of its backstop.
RUNTIME_ATTRIBUTE = "UnchainedRuntime"
RUNTIME_HOLD_SUBCODE = 4701
# A container job that fails to start this often without ever using the CPU
# is held (subcode IMAGE_HOLD_SUBCODE): HTCondor itself would retry it forever,
# and a missing or broken image is the usual cause.
FAILED_STARTS_BEFORE_HOLD = 3
IMAGE_HOLD_SUBCODE = 4702


def build(request, *, hub_id, home, files_dir, log_dir, lost_workers=None, server_args=(),
          additions=None, user=None, unix_groups=(), any_on_demand=False):
    """The submit description (text for `condor_submit`'s standard input).

    `files_dir` and `log_dir` are relative to `home`, the job's initial
    directory on the hub. `files_dir` goes into the job and comes back on
    exit and on eviction; `log_dir` receives the job's output. The job runs
    the environment's launcher (our `unchained-singleuser`), which runs its
    command (`jupyterhub-singleuser`) once the hub has sent its settings, in
    the environment of its Lmod module if it names one, inside its job image
    (a path on the workers) if it names one. It keeps off each worker of
    `lost_workers` ({host: when it was taken for lost, in seconds since the
    epoch}) until the collector has heard from that worker again.
    `server_args` (the admin's `Spawner.args`) follow the command. The
    site's `additions` (`additions.JobAdditions`) for `user`, a member of
    `unix_groups`, add a requirement, an accounting group and attributes.
    The job runs only at the request's sites (any if none), and, where some
    site's workers are drones (`any_on_demand`), on none of them unless in a
    container (`placement.requirements`); the ad names the worker's site
    (SITE_OF_RUN).
    """
    env = request.environment
    launcher_options = [f"--preload={module}" for module in env.preload]
    if env.lmod_module:
        launcher_options.append(f"--lmod={env.lmod_module}")
    args = " ".join(("--files-dir", safe(files_dir, "files directory"), *launcher_options, "--", *env.command,
                     *(safe(arg, "Spawner.args") for arg in server_args)))
    variables = " ".join(f"{name}={value}" for name, value in env.variables)
    if env.container_image:
        # The image is already on the worker (CVMFS at a site); HTCondor
        # must not try to copy it from the hub.
        universe = ["universe = container", f"container_image = {env.container_image}",
                    "transfer_container = false"]
    else:
        universe = ["universe = vanilla"]
    lines = [
        *universe,
        f"executable = {env.launcher}",
        "transfer_executable = false",
        f'arguments = "{args}"',
        f'environment = "{variables}"',
        f"initialdir = {safe(home, 'home directory')}",
        "should_transfer_files = YES",
        # Files come back when the server stops and when the job is evicted;
        # straight into the home directory, not the schedd's spool.
        "when_to_transfer_output = ON_EXIT_OR_EVICT",
        "+SpoolOnEvict = False",
        f"transfer_input_files = {files_dir}",
        f"transfer_output_files = {files_dir}",
        f"output = {safe(log_dir, 'log directory')}/job-$(ClusterId).out",
        f"error = {log_dir}/job-$(ClusterId).err",
        f"request_cpus = {int(request.cpus)}",
        f"request_memory = {int(request.memory_mb)}",
        f"request_disk = {int(request.disk_kb)}",
        f"job_machine_attrs = {SITE_ATTRIBUTE}",
    ]
    if request.gpus:
        lines.append(f"request_gpus = {int(request.gpus)}")
    # condor_submit adds its own requirements (memory, disk, ...) to these.
    requirements = [f"({additions.requirements})"] if additions and additions.requirements else []
    requirements += placement.requirements(request.sites, container=bool(env.container_image),
                                           any_on_demand=any_on_demand)
    # The collector keeps a dead worker's slots for a while (CLASSAD_LIFETIME),
    # and the negotiator would match the job to them over and over.
    requirements += [f'((TARGET.Machine =!= "{host_name(host)}") || (TARGET.LastHeardFrom > {int(since)}))'
                     for host, since in sorted((lost_workers or {}).items())]
    if requirements:
        lines.append("requirements = " + " && ".join(requirements))
    if additions:
        lines += additions.lines_for(user, unix_groups)
    lines += _hold_policy(request, container=bool(env.container_image))
    lines += [
        f'+{HUB_ATTRIBUTE} = "{safe(hub_id, "hub id")}"',
        f'+UnchainedEnvironment = "{env.id}"',
        # Where it may run ("" for any site), for the overlay manager (overlay.py).
        f'+{SITES_ATTRIBUTE} = "{",".join(request.sites)}"',
        "notification = never",
        "queue",
    ]
    return "\n".join(lines) + "\n"


def host_name(host):
    """A worker's name as HTCondor reported it, checked before it goes into a requirement."""
    if not HOST_NAME.fullmatch(host):
        raise ValueError(f"worker name {host!r} is not a host name")
    return host


def _hold_policy(request, container):
    """periodic_hold for the run time limit and, in a container, for an image
    that keeps the job from starting (HTCondor would retry that forever; its
    starter's error reaches only the job's event log, so the reason names the
    image and the worker instead)."""
    # The run time limit. The spawner stops the server when it is reached, so
    # the files come back; should the hub be down then, the schedd holds the
    # job a little later. (allowed_execute_duration would be the obvious
    # choice, but HTCondor 23.9 never enforces it on a job with
    # transfer_output_files.)
    runtime = f"(JobStatus == 2) && (time() - JobCurrentStartDate > {RUNTIME_ATTRIBUTE} + 60)"
    runtime_reason = '"The run time chosen when the server was started has passed"'
    lines = [f"+{RUNTIME_ATTRIBUTE} = {int(request.runtime_seconds)}"]
    if not container:
        return lines + [f"periodic_hold = {runtime}", f"periodic_hold_reason = {runtime_reason}",
                        f"periodic_hold_subcode = {RUNTIME_HOLD_SUBCODE}"]
    no_start = (f"(NumShadowStarts >= {FAILED_STARTS_BEFORE_HOLD}) && "
                "(CumulativeRemoteUserCpu + CumulativeRemoteSysCpu == 0)")
    no_start_reason = ('strcat("The job could not start in its container image ", ContainerImage, " on ", '
                       'LastRemoteHost, " (", NumShadowStarts, " tries): the image is missing or broken there. '
                       'Ask your site admin")')
    return lines + [
        f"periodic_hold = ({runtime}) || ({no_start})",
        f"periodic_hold_reason = ifThenElse({runtime}, {runtime_reason}, {no_start_reason})",
        f"periodic_hold_subcode = ifThenElse({runtime}, {RUNTIME_HOLD_SUBCODE}, {IMAGE_HOLD_SUBCODE})",
    ]
