"""The site's additions to every notebook job: checked when the hub makes a
spawner, and written into the submit description as the admin meant."""

import pytest
from test_submit import REQ, SPEC, lines
from unchained_hub import additions, submit

SITE = {
    "requirements": 'TARGET.Site == "north" && TARGET.HasCvmfs',
    "accounting_groups": {
        "users": {"alice": "group_physics.theory"},
        "unix_groups": {"cms": "group_physics.cms", "atlas": "group_physics.atlas"},
        "default": "group_other",
    },
    "attributes": {"SiteProject": "notebooks-2026", "SitePriority": 5, "SiteInteractive": True},
}


def build(config, user, groups=(), **spec):
    return submit.build(REQ, **SPEC, additions=additions.load(config), user=user, unix_groups=groups, **spec)


def test_an_accounting_group_by_user_then_by_unix_group_then_the_default():
    assert lines(build(SITE, "alice", {"cms"}))["accounting_group"] == "group_physics.theory"
    bob = lines(build(SITE, "bob", {"users", "atlas", "cms"}))
    assert bob["accounting_group"] == "group_physics.cms"  # the first listed of his groups
    assert bob["accounting_group_user"] == "bob"
    assert lines(build(SITE, "carol", {"users"}))["accounting_group"] == "group_other"
    assert "accounting_group" not in lines(build({}, "carol", {"users"}))


def test_requirements_and_attributes_reach_the_submit_description():
    d = lines(build(SITE, "alice", lost_workers={"ex2.lab.test": 1000}))
    assert d["requirements"] == ('(TARGET.Site == "north" && TARGET.HasCvmfs) && '
                                 '((TARGET.Machine =!= "ex2.lab.test") || (TARGET.LastHeardFrom > 1000))')
    assert d["+SiteProject"] == '"notebooks-2026"'
    assert d["+SitePriority"] == "5"
    assert d["+SiteInteractive"] == "true"
    assert lines(build({}, "alice")).get("requirements") is None


@pytest.mark.parametrize("config, message", [
    ({"requirements": 'TARGET.Site == "north"\nqueue 100'}, "no `$`, `#`, backslash or line break"),
    ({"requirements": "TARGET.Memory > $(request_memory)"}, "no `$`"),
    ({"requirements": 'TARGET.Site == "north'}, "quotes (in pairs)"),
    ({"accounting_groups": {"default": "group_a\nqueue"}}, "accounting group name"),
    ({"accounting_groups": {"users": {"alice": "group a"}}}, "accounting group name"),
    ({"accounting_groups": {"users": {"Alice Smith": "group_a"}}}, "is not a local user name"),
    ({"accounting_groups": {"unix_groups": {"cms;rm": "group_a"}}}, "is not a Unix group name"),
    ({"accounting_groups": {"by_host": {}}}, "unknown key 'by_host'"),
    ({"attributes": {"Site": "north\nqueue"}}, "text of letters, digits"),
    ({"attributes": {"Site": 'say "hi"'}}, "text of letters, digits"),
    ({"attributes": {"Site": float("nan")}}, "a number"),
    ({"attributes": {"Bad Name": 1}}, "is not a ClassAd attribute name"),
    ({"attributes": {"UnchainedHub": "other"}}, "the hub's or HTCondor's own"),
    ({"attributes": {"RequestMemory": 99999}}, "the hub's or HTCondor's own"),
    ({"attributes": {"PeriodicHold": False}}, "the hub's or HTCondor's own"),
    ({"attributes": {"requirements": "x"}}, "the hub's or HTCondor's own"),
    ({"rank": "Memory"}, "unknown key 'rank'"),
])
def test_a_value_that_could_break_the_description_is_refused_with_its_key(config, message):
    with pytest.raises(ValueError) as caught:
        additions.load(config)
    assert message in str(caught.value), str(caught.value)
    assert "job_additions" in str(caught.value)
