"""The spawner's settings (`c.UnchainedSpawner.*`), the form they make, and
the user's request checked against them.

`UnchainedSettings` is mixed into `UnchainedSpawner`; the settings are
configured under that name. When the hub makes a spawner, a configuration
that contradicts itself, or sets batchspawner's template settings (which
have no effect here), is refused: every start then fails saying which
setting is wrong, and the hub's log says so too. The checks themselves are pure
(`options.py`, `environments.py`); this is where JupyterHub meets them.
"""

import re
import socket
import sys

from tornado import web
from traitlets import Dict, Float, Unicode, default
from traitlets.config import Configurable

from . import additions, options
from .contract import check_spawner_settings, safe

REFUSED_BATCHSPAWNER_SETTINGS = (
    "batch_script", "batch_submit_cmd", "batch_query_cmd", "batch_cancel_cmd", "exec_prefix",
    "req_queue", "req_host", "req_memory", "req_nprocs", "req_ngpus", "req_runtime",
    "req_partition", "req_account", "req_options", "req_prologue", "req_epilogue",
)


class UnchainedSettings(Configurable):
    """The settings of `UnchainedSpawner`, checked when the hub makes a spawner."""

    hub_id = Unicode(
        help="""Marks this hub's jobs (job attribute UnchainedHub). Letters, digits and
        `_.:@+=,-` only. Default: this machine's fully qualified name.""",
    ).tag(config=True)

    @default("hub_id")
    def _default_hub_id(self):
        return socket.getfqdn()

    environments = Dict(
        help="""The notebook environments users may choose, by id. Each is a dict with
        `display_name`, `launcher` (absolute path of `unchained-singleuser` on the workers),
        `command` (list: the single-user server command, e.g. the absolute path of
        `jupyterhub-singleuser`), optionally `environment` (dict of variables for the
        job), `preload` (list of Python modules the server's process imports while the
        hub connects, e.g. `jupyter_server.serverapp`; `command` must then be a Python
        script), `lmod_module` (e.g. `jupyter/2026.11`: the job loads it in a login
        shell and runs the server in its environment) and `container_image` (the path of
        the job image on the workers, an Apptainer sandbox directory or SIF file: the job
        runs in HTCondor's container universe inside it), and `hidden` (true: the REST API
        can choose it, the form does not show it; for tests and benchmarks). Paths and
        values may contain only letters, digits and `_./:@+=,-`.""",
    ).tag(config=True)

    default_environment = Unicode(
        "", help="Id of the environment chosen when the user names none (default: the first the form shows)."
    ).tag(config=True)

    resource_limits = Dict(
        options.DEFAULT_LIMITS,
        help="""Per field (`cpus`, `memory_gb`, `disk_gb`, `gpus`, `runtime_hours`) a dict
        with `min`, `max` and `default`. Enforced on the hub for the form and the REST API.""",
    ).tag(config=True)

    presets = Dict(
        help="""Named choices shown in the form, e.g. `{"small": {"display_name": "Small",
        "cpus": 1, "memory_gb": 2}}`; they must lie within `resource_limits`. A preset's
        `sites` (a list of site ids) say where it may run, in place of its environment's.""",
    ).tag(config=True)

    sites = Dict(
        help="""The pool's sites by id, as their workers advertise them (`UnchainedSite`), in the
        order the hub names them: each a dict with `display_name` and `on_demand` (true: its
        workers are drones, started when notebooks wait for them). An environment's or
        preset's `sites` (a list of these ids; left out: any site) say where it may run.
        Notebooks without a `container_image` never run on drones.""",
    ).tag(config=True)

    files_dir = Unicode(
        "jupyter",
        help="""Directory of the user's home (relative) that is copied into the job and
        back when the server stops or the job is evicted. It is the notebook's root.""",
    ).tag(config=True)

    job_log_dir = Unicode(
        ".jupyterhub-unchained",
        help="Directory of the user's home (relative) that receives each job's output and errors.",
    ).tag(config=True)

    condor_bin_dir = Unicode("/usr/bin", help="Where the HTCondor commands are.").tag(config=True)

    sudo = Unicode("/usr/bin/sudo", help="sudo, which runs the user's HTCondor commands as the user.").tag(config=True)

    status_interval = Float(
        30.0,
        help="""Seconds between the hub's schedd queries (one for all servers) while no
        server is starting or stopping.""",
    ).tag(config=True)

    status_fast_interval = Float(
        0.5, help="Seconds between schedd queries while a server is starting or stopping."
    ).tag(config=True)

    idle_explain_after = Float(
        5.0,
        help="""Seconds a job may wait for a machine before the spawn page shows HTCondor's
        analysis of why (from `condor_q -better-analyze`).""",
    ).tag(config=True)

    drone_wait_warning = Float(
        300.0,
        help="""Seconds a job that may run only at on-demand sites (`sites`) waits for a
        drone before the spawn page says that starting one takes longer than usual.""",
    ).tag(config=True)

    connect_timeout = Float(
        30.0, help="Seconds to keep trying condor_ssh_to_job after the job starts."
    ).tag(config=True)

    tunnel_python = Unicode(
        help="""Python that runs the tunnel's ProxyCommand (`unchained_hub.fdpass`) as the
        user on the hub; it must import unchained_hub. Default: the hub's own Python.""",
    ).tag(config=True)

    @default("tunnel_python")
    def _default_tunnel_python(self):
        return sys.executable

    tunnel_dir = Unicode(
        "/run/jupyterhub/tunnels",
        help="""Where the hub-side ends of the tunnels are: a directory per user, the hub's
        own, that only the hub's account and that user can enter (by ACL; the file system
        must support POSIX ACLs). Its parent must let users pass (mode 0711).""",
    ).tag(config=True)

    tunnel_probe_interval = Float(
        1.0,
        help="Seconds between checks that a tunnel still carries requests; three failed in a row mean it is lost.",
    ).tag(config=True)

    stop_grace = Float(
        30.0,
        help="""Seconds to wait for a stopped server's job to end by itself, so that
        HTCondor brings its files back, before removing it.""",
    ).tag(config=True)

    stop_timeout = Float(
        600.0,
        help="""Seconds a stop waits for the job to leave the queue, its files copied back
        (however long a large copy takes, up to this); after it the hub goes on taking the
        job out in the background.""",
    ).tag(config=True)

    worker_lost_after = Float(
        60.0,
        help="""Seconds a running server's tunnel may stay lost, while the schedd still
        says the job runs, before the hub takes its worker for lost: it stops the server,
        tells the user, and removes the job.""",
    ).tag(config=True)

    lost_worker_avoided_for = Float(
        900.0,
        help="""Seconds at most that new jobs of this hub keep off a worker taken for
        lost, unless the collector hears from it again before. The collector keeps a
        dead worker's slots for CLASSAD_LIFETIME (900 s by default) and the negotiator
        would match jobs to them all along.""",
    ).tag(config=True)

    job_additions = Dict(
        help="""The site's additions to every notebook job: `requirements` (a ClassAd
        expression the job's machine must meet, e.g. `TARGET.Site == "north"`),
        `accounting_groups` (the accounting group a job is charged to: `users`, a dict
        user -> group, else `unix_groups`, a dict Unix group -> group where the first the
        user is a member of wins, else `default`; the job gets `accounting_group` and
        `accounting_group_user`) and `attributes` (a dict of job attributes of the
        site's own: name -> number, true/false or text of `_./:@+=,-`). Checked when
        the hub makes a spawner (`additions.py`).""",
    ).tag(config=True)

    orphan_grace = Float(
        120.0,
        help="""Seconds after which a job of this hub that belongs to no server (left by a
        spawn the hub did not live to finish) is removed.""",
    ).tag(config=True)

    @default("env_keep")
    def _default_env_keep(self):
        # The hub's own environment (its venv, PATH, ...) means nothing on a worker.
        return []

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._parsed = None  # (user_options, Request) of the last check
        self._config_error = None
        try:
            self._choices = self._checked_choices()
        except ValueError as e:
            # Every start is then refused naming the setting, in the browser and in the log.
            self.log.error("UnchainedSpawner is misconfigured, no server can start: %s", e)
            self._config_error, self._choices = str(e), None

    def _checked_choices(self):
        for section in ("BatchSpawnerBase", "CondorSpawner", "UnchainedSpawner", "Spawner"):
            refused = sorted(set(self.config.get(section, {})) & set(REFUSED_BATCHSPAWNER_SETTINGS))
            if refused:
                raise ValueError(f"c.{section}.{refused[0]} has no effect with UnchainedSpawner and is "
                                 "refused: use resource_limits, presets and environments instead")
        safe(self.hub_id, "hub_id")
        safe(self.files_dir, "files_dir")
        safe(self.job_log_dir, "job_log_dir")
        if not re.fullmatch(r"/[a-z0-9_./-]+", self.tunnel_dir):
            # JupyterHub keeps a server's address in lower case.
            raise ValueError(f"tunnel_dir {self.tunnel_dir!r}: an absolute path in lower case, please")
        check_spawner_settings(self.args, self.notebook_dir, self.environment)
        self._additions = additions.load(self.job_additions)
        return options.load_choices(self.resource_limits, self.presets, self.environments,
                                    self.default_environment, self.sites)

    # -- the form ---------------------------------------------------------

    @default("options_form")
    def _default_options_form(self):
        return options.render_form(self._choices) if self._choices else ""

    def options_from_form(self, formdata):
        return options.options_from_form(formdata)

    @default("apply_user_options")
    def _default_apply_user_options(self):
        # JupyterHub 5.3+ calls this before start(), so a bad choice is refused
        # before anything happens; start() checks for older versions.
        def check(spawner, user_options):
            spawner._request()
        return check

    def _request(self):
        """The user's choices as a `Request` (parsed once per set of choices)."""
        if self._config_error:
            raise web.HTTPError(500, f"The hub's configuration is wrong, so no server can start: {self._config_error}. "
                                     "Nothing was submitted; tell the site admin.")
        chosen = self.user_options or {}
        if self._parsed is None or self._parsed[0] != chosen:
            try:
                self._parsed = (dict(chosen), options.parse_request(chosen, self._choices))
            except options.OptionError as e:
                raise web.HTTPError(400, str(e), reason=str(e)) from None
        return self._parsed[1]
