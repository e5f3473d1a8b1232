"""The resource form's checks: what is accepted, and the words of each refusal."""

import pytest
from unchained_hub import options
from unchained_hub.options import OptionError, parse_request

LIMITS = {
    "cpus": {"min": 1, "max": 8, "default": 1},
    "memory_gb": {"min": 0.5, "max": 16, "default": 2},
    "disk_gb": {"min": 1, "max": 20, "default": 2},
    "gpus": {"min": 0, "max": 1, "default": 0},
    "runtime_hours": {"min": 0.01, "max": 12, "default": 8},
}
PRESETS = {"small": {"display_name": "Small", "cpus": 1, "memory_gb": 1},
           "big": {"display_name": "Big", "cpus": 4, "memory_gb": 8, "environment": "py-2"}}
ENVS = {env_id: {"display_name": name, "launcher": "/opt/env/bin/unchained-singleuser",
                 "command": ["/opt/env/bin/jupyterhub-singleuser"]}
        for env_id, name in (("py-1", "Python 1"), ("py-2", "Python 2"))}
CHOICES = options.load_choices(LIMITS, PRESETS, ENVS)


def parse(opts):
    return parse_request(opts, CHOICES)


def test_defaults_in_htcondor_units():
    r = parse({})
    assert (r.cpus, r.memory_mb, r.disk_kb, r.gpus, r.runtime_seconds, r.environment.id) == \
        (1, 2048, 2 * 1024 * 1024, 0, 8 * 3600, "py-1")


def test_exact_choice_from_api_and_form_agree():
    api = parse({"cpus": 2, "memory_gb": 3.5, "disk_gb": 5, "gpus": 1, "runtime_hours": 0.25,
                 "environment": "py-2"})
    form = parse(options.options_from_form({"cpus": ["2"], "memory_gb": ["3.5"], "disk_gb": ["5"],
                                            "gpus": ["1"], "runtime_hours": ["0.25"],
                                            "environment": ["py-2"]}))
    assert api == form
    assert (api.cpus, api.memory_mb, api.disk_kb, api.gpus, api.runtime_seconds) == \
        (2, 3584, 5 * 1024 * 1024, 1, 900)


@pytest.mark.parametrize("opts, message", [
    # The form's labels and units, never the internal keys or HTCondor's units.
    ({"cpus": 9}, "CPU cores: 9 is more than this site's maximum of 8."),
    ({"cpus": 0}, "CPU cores: 0 is less than this site's minimum of 1."),
    ({"memory_gb": 500}, "Memory: 500 GB is more than this site's maximum of 16 GB."),
    ({"runtime_hours": 13}, "Run time: 13 hours is more than this site's maximum of 12 hours."),
    ({"gpus": 2}, "GPUs: 2 is more than this site's maximum of 1."),
    ({"cpus": "2\nrequest_cpus = 64"}, "CPU cores: '2\\nrequest_cpus = 64' is not a whole number"),
    ({"cpus": "1.5"}, "CPU cores: '1.5' is not a whole number"),
    ({"cpus": True}, "CPU cores: expected a number"),
    ({"cpus": [1]}, "CPU cores: 'list' is not a whole number"),
    ({"memory_gb": "2.25"}, "Memory: '2.25' is not a number with at most 1 decimal"),
    ({"memory_gb": float("nan")}, "Memory: expected a number with at most 1 decimal(s)"),
    ({"memory_gb": "1e3"}, "Memory: '1e3' is not a number"),
    ({"environment": "py-3"}, "Environment: choose one of py-1, py-2"),
    ({"environment": "../../bin/sh"}, "Environment: choose one of py-1, py-2"),
    ({"preset": "huge"}, "Preset: choose one of small, big"),
    ({"options": "+Owner = \"root\""}, "unknown option 'options'"),
    ({"exec_prefix": "sh -c"}, "unknown option 'exec_prefix'"),
])
def test_refusals_name_the_field_and_limit(opts, message):
    with pytest.raises(OptionError) as e:
        parse(opts)
    assert message in str(e.value)


def test_not_a_dict():
    with pytest.raises(OptionError, match="JSON object"):
        parse(["cpus", 2])


def test_preset_then_explicit_values_override():
    assert parse({"preset": "big"}).cpus == 4
    assert parse({"preset": "big"}).environment.id == "py-2"
    assert parse({"preset": "big", "cpus": 2}).cpus == 2


def test_form_preset_ignores_the_number_fields_sent_with_it():
    opts = options.options_from_form({"preset": ["big"], "cpus": ["1"], "memory_gb": ["2"],
                                      "environment": ["py-2"]})
    assert opts == {"preset": "big", "environment": "py-2"}
    assert parse(opts).memory_mb == 8192


def test_form_shows_limits_and_escapes_admin_text():
    envs = {"py-1": {**ENVS["py-1"], "display_name": "<b>Py</b>"}, "py-2": ENVS["py-2"]}
    html = options.render_form(options.load_choices(LIMITS, PRESETS, envs))
    assert 'name="cpus" min="1" max="8"' in html
    assert "CPU cores, 1 to 8" in html
    assert "&lt;b&gt;Py&lt;/b&gt;" in html and "<b>Py</b>" not in html
    assert '<option value="big">Big</option>' in html


def test_admin_config_with_display_names_accepted():
    options.load_choices(LIMITS, PRESETS, ENVS)


@pytest.mark.parametrize("limits, presets, envs, message", [
    ({**LIMITS, "cpus": {"min": 2, "max": 8, "default": 1}}, {}, ENVS, "min <= default <= max"),
    ({k: v for k, v in LIMITS.items() if k != "gpus"}, {}, ENVS, "no entry for 'gpus'"),
    (LIMITS, {"x": {"cpus": 99}}, ENVS, "preset 'x': CPU cores: 99 is more than this site's maximum of 8"),
    (LIMITS, {}, {}, "environments is empty"),
    (LIMITS, {}, {"Py 1": {}}, "environment id 'Py 1'"),
])
def test_admin_config_checked(limits, presets, envs, message):
    with pytest.raises(ValueError, match=message):
        options.load_choices(limits, presets, envs)


def test_hidden_environments_can_be_chosen_but_are_not_offered():
    envs = {**ENVS, "bench": {**ENVS["py-1"], "display_name": "Bench only", "hidden": True}}
    choices = options.load_choices(LIMITS, PRESETS, envs)
    html = options.render_form(choices)
    assert 'value="py-1" selected' in html and 'value="py-2"' in html
    assert "bench" not in html and "Bench only" not in html
    assert parse_request({"environment": "bench"}, choices).environment.id == "bench"


@pytest.mark.parametrize("envs, default, message", [
    ({"x": {**ENVS["py-1"], "hidden": True}}, "", "every environment is hidden"),
    ({**ENVS, "x": {**ENVS["py-1"], "hidden": True}}, "x", "default_environment 'x' must be one of"),
    (ENVS, "py-9", "default_environment 'py-9' must be one of the environments the form shows: py-1, py-2"),
])
def test_the_default_environment_is_one_the_form_shows(envs, default, message):
    with pytest.raises(ValueError, match=message):
        options.load_choices(LIMITS, PRESETS, envs, default)


def test_the_default_environment_is_preselected_and_chosen():
    choices = options.load_choices(LIMITS, PRESETS, ENVS, "py-2")
    assert 'value="py-2" selected' in options.render_form(choices)
    assert parse_request({}, choices).environment.id == "py-2"


def test_a_site_without_gpus_says_so():
    choices = options.load_choices(options.DEFAULT_LIMITS, {}, ENVS)
    with pytest.raises(OptionError) as e:
        options.parse_request({"gpus": 1}, choices)
    assert str(e.value) == "GPUs: this site has none to offer (you asked for 1)."


def test_a_request_is_described_in_the_forms_words():
    request = parse({"cpus": 2, "memory_gb": 3.5, "disk_gb": 5, "gpus": 0, "runtime_hours": 0.25,
                     "environment": "py-2"})
    assert request.describe() == (f"2 CPU cores, 3.5 GB memory, 5 GB disk, no GPUs, 0.25 hours, "
                                  f"{request.environment.display_name}")
    # 0.6 GB is 614 MB for HTCondor, and 0.6 GB again for the user.
    assert parse({"memory_gb": 0.6}).describe().startswith("1 CPU core, 0.6 GB memory, 2 GB disk, no GPUs")
    assert parse({"memory_gb": 0.6}).asked()["memory_gb"] == 0.6
