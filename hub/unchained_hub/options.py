"""The resource form: what a user may ask for, checked against the admin's limits.

Everything a user sends (the HTML form or `user_options` in the REST API) goes
through `parse_request`, which either returns a `Request` made only of numbers
and an environment id from the admin's list, or raises `OptionError` naming the
field and the limit. Nothing else of the user's text goes any further.
"""

import html
import math
import re
from dataclasses import dataclass

from . import environments as envs
from . import placement
from .environments import Environment

# Field -> (label, unit, decimals allowed). The order is the form's order.
FIELDS = {
    "cpus": ("CPU cores", "", 0),
    "memory_gb": ("Memory", "GB", 1),
    "disk_gb": ("Disk", "GB", 0),
    "gpus": ("GPUs", "", 0),
    "runtime_hours": ("Run time", "hours", 2),
}
CHOICE_FIELDS = ("environment", "preset")
ALLOWED_KEYS = (*FIELDS, *CHOICE_FIELDS)

DEFAULT_LIMITS = {
    "cpus": {"min": 1, "max": 4, "default": 1},
    "memory_gb": {"min": 1, "max": 16, "default": 2},
    "disk_gb": {"min": 1, "max": 20, "default": 2},
    "gpus": {"min": 0, "max": 0, "default": 0},
    "runtime_hours": {"min": 1, "max": 12, "default": 8},
}

_NUMBER = {0: re.compile(r"^[0-9]{1,7}$"), 1: re.compile(r"^[0-9]{1,7}(\.[0-9])?$"),
           2: re.compile(r"^[0-9]{1,7}(\.[0-9]{1,2})?$")}


class OptionError(ValueError):
    """A user's choice that is refused; the message is shown to the user."""


@dataclass(frozen=True)
class Request:
    """What one notebook job asks HTCondor for, in HTCondor's units."""

    cpus: int
    memory_mb: int
    disk_kb: int
    gpus: int
    runtime_seconds: int
    environment: Environment
    # The ids of the sites the job may run at (placement.py); () for any.
    sites: tuple = ()

    def asked(self):
        """The resources asked for, by the form's fields, as the form took them."""
        htcondor = {"cpus": self.cpus, "memory_gb": self.memory_mb / 1024, "disk_gb": self.disk_kb / (1024 * 1024),
                    "gpus": self.gpus, "runtime_hours": self.runtime_seconds / 3600}
        return {field: form_value(field, value) for field, value in htcondor.items()}

    def describe(self):
        """What was asked for, in the form's words and units."""
        a = self.asked()
        return (f"{a['cpus']} CPU core{'s' if a['cpus'] != 1 else ''}, {a['memory_gb']:g} GB memory, "
                f"{a['disk_gb']:g} GB disk, {a['gpus'] or 'no'} GPU{'s' if a['gpus'] != 1 else ''}, "
                f"{a['runtime_hours']:g} hours, {self.environment.display_name}")


@dataclass(frozen=True)
class Choices:
    """What the admin offers: limits per field, presets, environments and sites by id."""

    limits: dict
    presets: dict
    environments: dict
    default_environment: str
    sites: dict = None

    @property
    def any_on_demand(self):
        return any(site.on_demand for site in (self.sites or {}).values())


def load_choices(limits, presets, environments, default_environment="", sites=None):
    """The admin's settings as `Choices`, or ValueError naming what contradicts
    itself; checked once, when the hub makes a spawner."""
    environments, default_environment = envs.load(environments, default_environment)
    sites = placement.load(sites or {})
    for env in environments.values():
        _check_placement(f"environments[{env.id!r}]", env, env.sites or None, sites)
    for field in FIELDS:
        if field not in limits:
            raise ValueError(f"resource_limits has no entry for {field!r}")
        lim = limits[field]
        if not lim["min"] <= lim["default"] <= lim["max"]:
            raise ValueError(f"resource_limits[{field!r}]: need min <= default <= max, got {lim}")
    unknown = set(limits) - set(FIELDS)
    if unknown:
        raise ValueError(f"resource_limits has unknown fields {sorted(unknown)}")
    choices = Choices(limits, presets, environments, default_environment, sites)
    for name, preset in presets.items():
        if not envs.ID_PATTERN.fullmatch(name):
            raise ValueError(f"preset name {name!r} must match {envs.ID_PATTERN.pattern}")
        try:
            values = {k: v for k, v in preset.items() if k not in PRESET_ONLY_KEYS}
            request = parse_request(values, Choices(limits, {}, environments, default_environment, sites))
        except OptionError as e:
            raise ValueError(f"preset {name!r}: {e}") from None
        if "sites" in preset:
            _check_placement(f"presets[{name!r}]", request.environment, preset["sites"], sites)
    return choices


# Keys of a preset that are not a user's option.
PRESET_ONLY_KEYS = ("display_name", "sites")


def _check_placement(where, env, value, sites):
    """The sites of an environment or preset, checked: they exist, and a
    notebook without a container image is not sent where only drones run."""
    allowed = placement.allowed(value, sites, where)
    if not env.container_image and placement.on_demand_only(allowed, sites):
        raise ValueError(f"{where}.sites allows only sites whose workers are drones, which run notebooks only "
                         f"in a container image, and environment {env.id!r} has no container_image")
    return allowed


def parse_request(options, choices):
    """Turn a user's options into a `Request`, or raise `OptionError`."""
    if not isinstance(options, dict):
        raise OptionError("options must be a JSON object")
    unknown = sorted(str(key)[:40] for key in options if key not in ALLOWED_KEYS)
    if unknown:
        raise OptionError(f"unknown option {unknown[0]!r}; allowed: {', '.join(ALLOWED_KEYS)}")

    limits, presets, environments = choices.limits, choices.presets, choices.environments
    values = {field: limits[field]["default"] for field in FIELDS}
    environment = choices.default_environment
    preset_name = options.get("preset")
    if preset_name not in (None, ""):
        if not isinstance(preset_name, str) or preset_name not in presets:
            raise OptionError(f"Preset: choose one of {', '.join(presets) or '(none defined)'}")
        preset = presets[preset_name]
        values.update({k: v for k, v in preset.items() if k in FIELDS})
        environment = preset.get("environment", environment)

    for field in FIELDS:
        if options.get(field) not in (None, ""):
            values[field] = _number(field, options[field])
        lim, label = limits[field], FIELDS[field][0]
        if lim["max"] == 0 and values[field] > 0:
            raise OptionError(f"{label}: this site has none to offer (you asked for {amount(field, values[field])}).")
        if values[field] < lim["min"]:
            raise OptionError(f"{label}: {amount(field, values[field])} is less than this site's minimum "
                              f"of {amount(field, lim['min'])}.")
        if values[field] > lim["max"]:
            raise OptionError(f"{label}: {amount(field, values[field])} is more than this site's maximum "
                              f"of {amount(field, lim['max'])}.")

    if options.get("environment") not in (None, ""):
        environment = options["environment"]
    if not isinstance(environment, str) or environment not in environments:
        raise OptionError(f"Environment: choose one of {', '.join(environments)}")
    # A preset's sites, else its (or the chosen) environment's; both checked by load_choices.
    sites = tuple(presets[preset_name]["sites"]) if preset_name and "sites" in presets[preset_name] \
        else environments[environment].sites
    env = environments[environment]
    if sites and not env.container_image and placement.on_demand_only(sites, choices.sites):
        raise OptionError(f"Environment: {env.display_name} cannot run at "
                          f"{' or '.join(choices.sites[s].display_name for s in sites)}, where notebooks run "
                          "only in a container image; choose another environment or preset")

    return Request(
        cpus=int(values["cpus"]),
        memory_mb=round(values["memory_gb"] * 1024),
        disk_kb=round(values["disk_gb"] * 1024 * 1024),
        gpus=int(values["gpus"]),
        runtime_seconds=round(values["runtime_hours"] * 3600),
        environment=environments[environment],
        sites=sites,
    )


def form_value(field, value):
    """A value back in the form's units, rounded as the form takes it: 0.2 GB
    is 205 MB for HTCondor, and 0.2 GB again here."""
    return round(value, FIELDS[field][2])


def amount(field, value):
    """A value of a field as the form shows it: "2 GB", "8 hours", "4"."""
    unit = FIELDS[field][1]
    return f"{value:g} {unit}" if unit else f"{value:g}"


def _number(field, value):
    """A number from JSON (int/float) or a form (text), with the field's decimals."""
    label, _, decimals = FIELDS[field]
    if isinstance(value, bool):
        raise OptionError(f"{label}: expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or round(value, decimals) != value:
            raise OptionError(f"{label}: expected a number with at most {decimals} decimal(s)")
        return value
    if isinstance(value, str) and _NUMBER[decimals].match(value.strip()):
        text = value.strip()
        return float(text) if "." in text else int(text)
    shown = value if isinstance(value, str) else type(value).__name__
    if decimals:
        raise OptionError(f"{label}: {str(shown)[:40]!r} is not a number with at most "
                          f"{decimals} decimal(s)")
    raise OptionError(f"{label}: {str(shown)[:40]!r} is not a whole number")


def options_from_form(formdata):
    """JupyterHub's form data (lists of strings) as plain `user_options`.
    A preset chosen in the form stands for all its values: the number fields
    the form sends along with it are its defaults, not the user's choice."""
    options = {key: values[0] for key, values in formdata.items()
               if key in ALLOWED_KEYS and values and values[0] != ""}
    if options.get("preset"):
        options = {k: v for k, v in options.items() if k not in FIELDS}
    return options


def render_form(choices):
    """The spawn form. Limits are repeated in the inputs for the browser's
    sake only; the hub checks them again whatever the browser sends. Hidden
    environments are not offered."""
    esc = html.escape
    limits, presets = choices.limits, choices.presets
    rows = []
    if presets:
        offered = "".join(
            f'<option value="{esc(name)}">{esc(p.get("display_name", name))}</option>'
            for name, p in presets.items())
        rows.append('<div class="form-group"><label for="unchained-preset">Preset</label>'
                    '<select class="form-control" id="unchained-preset" name="preset">'
                    f'<option value="">Custom (the values below)</option>{offered}'
                    '</select></div>')
    for field, (label, unit, decimals) in FIELDS.items():
        lim = limits[field]
        step = 10 ** -decimals if decimals else 1
        suffix = f" ({unit})" if unit else ""
        rows.append(
            f'<div class="form-group"><label for="unchained-{field}">{label}{suffix}, '
            f'{lim["min"]:g} to {lim["max"]:g}</label>'
            f'<input class="form-control" type="number" id="unchained-{field}" name="{field}" '
            f'min="{lim["min"]:g}" max="{lim["max"]:g}" step="{step:g}" '
            f'value="{lim["default"]:g}"></div>')
    offered = "".join(
        f'<option value="{esc(env.id)}"{" selected" if env.id == choices.default_environment else ""}>'
        f'{esc(env.display_name)}</option>'
        for env in choices.environments.values() if not env.hidden)
    rows.append('<div class="form-group"><label for="unchained-environment">Environment</label>'
                '<select class="form-control" id="unchained-environment" name="environment">'
                f'{offered}</select></div>')
    return "\n".join(rows)
