"""The hub-job contract and the checks shared by the hub, the job and Puppet."""

import re
from pathlib import Path

import pytest
from unchained_hub import contract
from unchained_hub.environments import Environment, load

PUPPET_USERNAME = Path(__file__).resolve().parents[2] / "puppet/site-modules/unchained_hub/types/username.pp"
ENV = {"launcher": "/opt/env/bin/unchained-singleuser", "command": ["/opt/env/bin/jupyterhub-singleuser"]}


def test_one_user_name_rule_for_puppet_and_the_hub():
    puppet = re.search(r"Pattern\[/\\A(.*)\\z/\]", PUPPET_USERNAME.read_text()).group(1)
    assert puppet == contract.USERNAME.pattern


@pytest.mark.parametrize("name, ok", [
    ("alice", True), ("bob-2", True), ("a_b", True), ("a" * 32, True), ("a" * 33, False),
    ("_svc", False), ("1abc", False), ("Alice", False), ("alice\n", False), ("", False), (None, False),
])
def test_user_names(name, ok):
    assert contract.is_username(name) is ok


@pytest.mark.parametrize("value", ["/a/b c", "x\n", "$(Owner)", "a#b", 'a"b', "", None, 3])
def test_safe_refuses_what_could_change_a_description(value):
    with pytest.raises(ValueError, match="characters outside"):
        contract.safe(value, "value")


def test_hub_api_socket_names_the_launcher_accepts():
    assert contract.HUB_API_SOCKET.fullmatch("hub-api-0123456789abcdef.sock")
    for bad in ("hub-api-0123456789abcdef.sock\n", "hub-api-x.sock", "../hub-api-0123456789abcdef.sock",
                "/tmp/.unchained/hub-api-0123456789abcdef.sock"):
        assert not contract.HUB_API_SOCKET.fullmatch(bad)


def test_the_job_and_the_session_name_one_directory():
    assert contract.job_dir("/var/lib/condor/execute/dir_9") == "/var/lib/condor/execute/dir_9/tmp/.unchained"
    assert contract.SESSION_DIR == "/tmp/.unchained"  # HTCondor mounts the scratch's tmp/ over /tmp


def test_settings_the_job_provides_itself_are_not_sent():
    sent = contract.settings_for_job({"JUPYTERHUB_API_TOKEN": "t", "PATH": "/usr/bin", "HOME": "/h", "X": "y"})
    assert sent == {"JUPYTERHUB_API_TOKEN": "t", "X": "y"}


def test_an_environment_from_the_admins_config():
    env = Environment.from_config("py-1", {**ENV, "display_name": "Python", "environment": {"LANG": "C.UTF-8"},
                                           "preload": ["jupyter_server.serverapp"], "lmod_module": "jupyter/2026.11",
                                           "container_image": "/images/job", "hidden": True})
    assert env == Environment("py-1", "Python", ENV["launcher"], tuple(ENV["command"]), (("LANG", "C.UTF-8"),),
                              ("jupyter_server.serverapp",), "jupyter/2026.11", "/images/job", True)
    assert Environment.from_config("py-2", ENV).display_name == "py-2"


@pytest.mark.parametrize("env_id, spec, message", [
    ("Py 1", ENV, "environment id 'Py 1'"),
    ("py-1", {**ENV, "comand": ["x"]}, "environments\\['py-1'\\] has unknown key 'comand'"),
    ("py-1", {"launcher": ENV["launcher"]}, "has no command"),
    ("py-1", {**ENV, "command": "/bin/server"}, "has no command"),
    ("py-1", {**ENV, "lmod_module": "jupyter/1 x"}, "lmod_module must be a module name"),
    ("py-1", {**ENV, "lmod_module": "jupyter/1\n"}, "lmod_module must be a module name"),
    ("py-1", {**ENV, "container_image": "images/job"}, "container_image must be an absolute path"),
    ("py-1", {**ENV, "hidden": "yes"}, "hidden must be true or false"),
    ("py-1", {**ENV, "launcher": "/bin/x\n"}, "launcher '/bin/x\\\\n' has characters outside"),
    ("py-1", {**ENV, "environment": ["A=b"]}, "environment must be a dict"),
])
def test_a_bad_environment_is_refused_naming_it(env_id, spec, message):
    with pytest.raises(ValueError, match=message):
        Environment.from_config(env_id, spec)


def test_load_refuses_no_environments():
    with pytest.raises(ValueError, match="environments is empty"):
        load({})


def test_jupyterhubs_server_settings_work_or_are_refused_with_what_to_use():
    contract.check_spawner_settings(["--ServerApp.terminals_enabled=False"], "", {"SITE": "north"})
    with pytest.raises(ValueError, match="c.Spawner.args: each argument is one word"):
        contract.check_spawner_settings(["--ServerApp.ip=0.0.0.0 --foo"], "", {})
    with pytest.raises(ValueError, match="notebook_dir .* c.UnchainedSpawner.files_dir"):
        contract.check_spawner_settings([], "~/work", {})
    with pytest.raises(ValueError, match="environment PATH: .*environments\\[...\\].environment"):
        contract.check_spawner_settings([], "", {"PATH": "/opt/bin"})
