"""Where notebooks may run: the admin's sites, an environment's or preset's
sites, the requirements they become and what the user reads meanwhile."""

import pytest
from unchained_hub import options, placement, submit

LIMITS = options.DEFAULT_LIMITS
SITES = {"lab": {"display_name": "site A"}, "siteb": {"display_name": "site B", "on_demand": True}}
IMAGE = {"launcher": "/cvmfs/env/bin/unchained-singleuser", "command": ["/cvmfs/env/bin/jupyterhub-singleuser"],
         "container_image": "/cvmfs/images/job"}
BARE = {"launcher": "/opt/env/bin/unchained-singleuser", "command": ["/opt/env/bin/jupyterhub-singleuser"]}
ENVS = {"image": IMAGE, "bare": BARE, "image-b": {**IMAGE, "sites": ["siteb"]}}
PRESETS = {"a-only": {"sites": ["lab"]}, "b-only": {"sites": ["siteb"], "environment": "image"},
           "anywhere": {"cpus": 1}}
SPEC = dict(hub_id="hub.lab.test", home="/home/alice", files_dir="jupyter", log_dir=".jupyterhub-unchained")


def choices(**kwargs):
    spec = dict(limits=LIMITS, presets=PRESETS, environments=ENVS, default_environment="image", sites=SITES)
    spec.update(kwargs)
    return options.load_choices(**spec)


def requirements(opts):
    c = choices()
    text = submit.build(options.parse_request(opts, c), any_on_demand=c.any_on_demand, **SPEC)
    return dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line).get("requirements", "")


def test_a_preset_or_environment_restricts_the_job_to_its_sites():
    assert requirements({"preset": "a-only"}) == '(TARGET.UnchainedSite =?= "lab")'
    assert requirements({"preset": "b-only"}) == '(TARGET.UnchainedSite =?= "siteb")'
    assert requirements({"environment": "image-b"}) == '(TARGET.UnchainedSite =?= "siteb")'
    # A preset's sites stand for its environment's.
    assert requirements({"preset": "a-only", "environment": "image-b"}) == '(TARGET.UnchainedSite =?= "lab")'


def test_any_site_adds_no_requirement_except_no_drones_without_an_image():
    assert requirements({"preset": "anywhere"}) == ""
    assert requirements({"environment": "bare"}) == "(TARGET.UnchainedDrone =!= true)"
    assert requirements({"preset": "a-only", "environment": "bare"}) == \
        '(TARGET.UnchainedSite =?= "lab") && (TARGET.UnchainedDrone =!= true)'
    both = placement.requirements(("lab", "siteb"), container=True, any_on_demand=True)
    assert both == ['((TARGET.UnchainedSite =?= "lab") || (TARGET.UnchainedSite =?= "siteb"))']


def test_a_pool_without_drones_keeps_its_requirements_as_they_were():
    c = choices(sites={}, environments={"bare": BARE}, presets={}, default_environment="bare")
    text = submit.build(options.parse_request({}, c), any_on_demand=c.any_on_demand, **SPEC)
    assert "requirements" not in text and "job_machine_attrs = UnchainedSite" in text


def test_a_user_cannot_send_a_bare_environment_to_drones_only():
    with pytest.raises(options.OptionError, match="cannot run at site B.*only in a container image"):
        options.parse_request({"preset": "b-only", "environment": "bare"}, choices())


@pytest.mark.parametrize("change, message", [
    ({"sites": {"Site B": {}}}, "site id 'Site B' must match"),
    ({"sites": {"siteb": {"on_demand": "yes"}}}, r"sites\['siteb'\].on_demand must be true or false"),
    ({"sites": {"siteb": {"where": 1}}}, "unknown key 'where'"),
    ({"environments": {**ENVS, "x": {**IMAGE, "sites": ["sitec"]}}}, r"environments\['x'\].sites names 'sitec'"),
    ({"environments": {**ENVS, "x": {**BARE, "sites": ["siteb"]}}}, "only sites whose workers are drones"),
    ({"presets": {"p": {"sites": []}}}, r"presets\['p'\].sites must be a non-empty list"),
    ({"presets": {"p": {"sites": ["siteb"], "environment": "bare"}}}, "only sites whose workers are drones"),
])
def test_the_admins_sites_are_checked(change, message):
    with pytest.raises(ValueError, match=message):
        choices(**change)


def test_the_user_is_told_where_the_job_waits():
    sites = placement.load(SITES)
    assert placement.waiting_message(7, ("siteb",), sites) == (
        "Job 7.0 is waiting for a worker at site B; one is being started for it, which takes a minute or two")
    assert placement.waiting_message(7, (), sites) == (
        "Job 7.0 is waiting for a machine at site A; if none is free, a worker is started for it at site B")
    assert placement.waiting_message(7, ("lab",), sites) == "Job 7.0 is waiting for a machine at site A"
    assert placement.waiting_message(7, (), {}) == "Job 7.0 is waiting for a machine"
    assert placement.site_name("siteb", sites) == "site B" and placement.site_name(None, sites) == ""


def test_a_drone_that_is_slow_to_come_is_said_so_for_drone_only_jobs():
    sites = placement.load(SITES)
    assert placement.on_demand_only(("siteb",), sites)
    assert not placement.on_demand_only((), sites) and not placement.on_demand_only(("lab",), sites)
    assert not placement.on_demand_only((), {})
    message = placement.slow_drone_message(7, ("siteb",), sites, 301.4)
    assert message.startswith("Job 7.0 is still waiting for a worker at site B after 301 s: starting one takes "
                              "longer than usual (site B's batch system may be busy or down).")
