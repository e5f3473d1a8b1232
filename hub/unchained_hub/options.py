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

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
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
    environment: str

    def describe(self):
        return (f"{self.cpus} CPU core(s), {self.memory_mb} MB memory, "
                f"{self.disk_kb // (1024 * 1024)} GB disk, {self.gpus} GPU(s), "
                f"{self.runtime_seconds / 3600:g} h, environment {self.environment}")


def check_config(limits, presets, environments):
    """Refuse an admin configuration that contradicts itself, at hub start."""
    for field in FIELDS:
        if field not in limits:
            raise ValueError(f"resource_limits has no entry for {field!r}")
        lim = limits[field]
        if not lim["min"] <= lim["default"] <= lim["max"]:
            raise ValueError(f"resource_limits[{field!r}]: need min <= default <= max, got {lim}")
    unknown = set(limits) - set(FIELDS)
    if unknown:
        raise ValueError(f"resource_limits has unknown fields {sorted(unknown)}")
    if not environments:
        raise ValueError("environments is empty: list at least one notebook environment")
    for env_id in environments:
        if not ID_PATTERN.match(env_id):
            raise ValueError(f"environment id {env_id!r} must match {ID_PATTERN.pattern}")
    for name, preset in presets.items():
        if not ID_PATTERN.match(name):
            raise ValueError(f"preset name {name!r} must match {ID_PATTERN.pattern}")
        try:
            values = {k: v for k, v in preset.items() if k != "display_name"}
            parse_request(values, limits, {}, environments)
        except OptionError as e:
            raise ValueError(f"preset {name!r}: {e}") from None


def parse_request(options, limits, presets, environments, default_environment=None):
    """Turn a user's options into a `Request`, or raise `OptionError`."""
    if not isinstance(options, dict):
        raise OptionError("options must be a JSON object")
    unknown = sorted(str(key)[:40] for key in options if key not in ALLOWED_KEYS)
    if unknown:
        raise OptionError(f"unknown option {unknown[0]!r}; allowed: {', '.join(ALLOWED_KEYS)}")

    values = {field: limits[field]["default"] for field in FIELDS}
    environment = default_environment or next(iter(environments), None)
    preset_name = options.get("preset")
    if preset_name not in (None, ""):
        if not isinstance(preset_name, str) or preset_name not in presets:
            raise OptionError(f"preset: choose one of {', '.join(presets) or '(none defined)'}")
        preset = presets[preset_name]
        values.update({k: v for k, v in preset.items() if k in FIELDS})
        environment = preset.get("environment", environment)

    for field in FIELDS:
        if options.get(field) not in (None, ""):
            values[field] = _number(field, options[field])
        lim = limits[field]
        if values[field] < lim["min"]:
            raise OptionError(f"{field}: {values[field]:g} is below the minimum {lim['min']:g}")
        if values[field] > lim["max"]:
            raise OptionError(f"{field}: {values[field]:g} is above the maximum {lim['max']:g}")

    if options.get("environment") not in (None, ""):
        environment = options["environment"]
    if not isinstance(environment, str) or environment not in environments:
        raise OptionError(f"environment: choose one of {', '.join(environments)}")

    return Request(
        cpus=int(values["cpus"]),
        memory_mb=round(values["memory_gb"] * 1024),
        disk_kb=round(values["disk_gb"] * 1024 * 1024),
        gpus=int(values["gpus"]),
        runtime_seconds=round(values["runtime_hours"] * 3600),
        environment=environment,
    )


def _number(field, value):
    """A number from JSON (int/float) or a form (text), with the field's decimals."""
    decimals = FIELDS[field][2]
    if isinstance(value, bool):
        raise OptionError(f"{field}: expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or round(value, decimals) != value:
            raise OptionError(f"{field}: expected a number with at most {decimals} decimals")
        return value
    if isinstance(value, str) and _NUMBER[decimals].match(value.strip()):
        text = value.strip()
        return float(text) if "." in text else int(text)
    shown = value if isinstance(value, str) else type(value).__name__
    if decimals:
        raise OptionError(f"{field}: {str(shown)[:40]!r} is not a number with at most "
                          f"{decimals} decimal(s)")
    raise OptionError(f"{field}: {str(shown)[:40]!r} is not a whole number")


def options_from_form(formdata):
    """JupyterHub's form data (lists of strings) as plain `user_options`.
    A preset chosen in the form stands for all its values: the number fields
    the form sends along with it are its defaults, not the user's choice."""
    options = {key: values[0] for key, values in formdata.items()
               if key in ALLOWED_KEYS and values and values[0] != ""}
    if options.get("preset"):
        options = {k: v for k, v in options.items() if k not in FIELDS}
    return options


def render_form(limits, presets, environments, default_environment=None):
    """The spawn form. Limits are repeated in the inputs for the browser's
    sake only; the hub checks them again whatever the browser sends."""
    esc = html.escape
    rows = []
    if presets:
        choices = "".join(
            f'<option value="{esc(name)}">{esc(p.get("display_name", name))}</option>'
            for name, p in presets.items())
        rows.append('<div class="form-group"><label for="unchained-preset">Preset</label>'
                    '<select class="form-control" id="unchained-preset" name="preset">'
                    f'<option value="">Custom (the values below)</option>{choices}'
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
    default = default_environment or next(iter(environments))
    choices = "".join(
        f'<option value="{esc(env_id)}"{" selected" if env_id == default else ""}>'
        f'{esc(env.get("display_name", env_id))}</option>'
        for env_id, env in environments.items())
    rows.append('<div class="form-group"><label for="unchained-environment">Environment</label>'
                '<select class="form-control" id="unchained-environment" name="environment">'
                f'{choices}</select></div>')
    return "\n".join(rows)
