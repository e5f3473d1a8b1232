"""Notebook environments: what the admin offers, checked once when the hub starts.

An environment is a frozen `Environment`; `load` turns the admin's
`c.UnchainedSpawner.environments` into them or raises ValueError naming the
environment and the key. Everything of it that reaches a submit description
(paths, arguments, variables, module and image names) is checked here, so
the submit builder can take it as it is.
"""

import re
from dataclasses import dataclass

from .contract import LMOD_MODULE, safe

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
KEYS = ("display_name", "launcher", "command", "environment", "preload", "lmod_module",
        "container_image", "hidden", "sites")


@dataclass(frozen=True)
class Environment:
    """One notebook environment a user may choose.

    `launcher` is the path of `unchained-singleuser` on the workers; it runs
    `command` (the single-user server) with `variables` set, after importing
    `preload`, in the Lmod module `lmod_module`, in the job image
    `container_image`. A `hidden` environment can be chosen through the REST
    API (tests, benchmarks) but is not shown in the spawn form. `sites` are
    the ids of the sites it may run at (`placement.py`; empty: any), checked
    against the admin's sites by `options.load_choices`.
    """

    id: str
    display_name: str
    launcher: str
    command: tuple
    variables: tuple = ()  # (name, value) pairs
    preload: tuple = ()
    lmod_module: str = None
    container_image: str = None
    hidden: bool = False
    sites: tuple = ()

    @classmethod
    def from_config(cls, env_id, spec):
        where = f"environments[{env_id!r}]"
        if not isinstance(env_id, str) or not ID_PATTERN.fullmatch(env_id):
            raise ValueError(f"environment id {env_id!r} must match {ID_PATTERN.pattern}")
        if not isinstance(spec, dict):
            raise ValueError(f"{where} must be a dict")
        unknown = sorted(set(spec) - set(KEYS))
        if unknown:
            raise ValueError(f"{where} has unknown key {unknown[0]!r}; known: {', '.join(KEYS)}")
        command = spec.get("command")
        if not command or not isinstance(command, (list, tuple)):
            raise ValueError(f"{where} has no command")
        variables = spec.get("environment") or {}
        if not isinstance(variables, dict):
            raise ValueError(f"{where}.environment must be a dict")
        preload = spec.get("preload") or ()
        if not isinstance(preload, (list, tuple)):
            raise ValueError(f"{where}.preload must be a list")
        lmod_module = spec.get("lmod_module") or None
        if lmod_module is not None and not (isinstance(lmod_module, str) and LMOD_MODULE.fullmatch(lmod_module)):
            raise ValueError(f"{where}.lmod_module must be a module name like jupyter/2026.11")
        image = spec.get("container_image")
        if image is not None:
            safe(image, f"{where}.container_image")
            if not image.startswith("/"):
                raise ValueError(f"{where}.container_image must be an absolute path on the workers")
        hidden = spec.get("hidden", False)
        if not isinstance(hidden, bool):
            raise ValueError(f"{where}.hidden must be true or false")
        sites = spec.get("sites") or ()
        if not isinstance(sites, (list, tuple)) or not all(isinstance(s, str) for s in sites):
            raise ValueError(f"{where}.sites must be a list of site ids")
        display_name = spec.get("display_name", env_id)
        if not isinstance(display_name, str):
            raise ValueError(f"{where}.display_name must be text")
        return cls(
            id=env_id,
            display_name=display_name,
            launcher=safe(spec.get("launcher"), f"{where}.launcher"),
            command=tuple(safe(word, f"{where}.command word") for word in command),
            variables=tuple((safe(k, f"{where}.environment name"), safe(v, f"{where}.environment value"))
                            for k, v in variables.items()),
            preload=tuple(safe(module, f"{where}.preload module") for module in preload),
            lmod_module=lmod_module,
            container_image=image,
            hidden=hidden,
            sites=tuple(sites),
        )


def load(config, default=""):
    """The admin's environments by id, and the id of the default one."""
    if not config:
        raise ValueError("environments is empty: list at least one notebook environment")
    environments = {env_id: Environment.from_config(env_id, spec) for env_id, spec in config.items()}
    shown = [env.id for env in environments.values() if not env.hidden]
    if not shown:
        raise ValueError("every environment is hidden: the spawn form would offer none")
    default = default or shown[0]
    if default not in shown:
        raise ValueError(f"default_environment {default!r} must be one of the environments the form "
                         f"shows: {', '.join(shown)}")
    return environments, default
