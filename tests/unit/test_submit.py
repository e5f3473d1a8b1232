"""The submit description: exactly what was chosen, nothing of the user's text."""

import dataclasses

import pytest
from unchained_hub import submit
from unchained_hub.environments import Environment
from unchained_hub.options import Request

ENV = {"launcher": "/opt/env/bin/unchained-singleuser", "command": ["/opt/env/bin/jupyterhub-singleuser"],
       "environment": {"LANG": "C.UTF-8"}}
REQ = Request(cpus=2, memory_mb=3584, disk_kb=5 * 1024 * 1024, gpus=0, runtime_seconds=900,
              environment=Environment.from_config("py-1", ENV))
SPEC = dict(hub_id="hub.lab.test", home="/home/alice", files_dir="jupyter", log_dir=".jupyterhub-unchained")


def in_env(**spec):
    """REQ in an environment with these settings besides ENV's."""
    return dataclasses.replace(REQ, environment=Environment.from_config("py-1", {**ENV, **spec}))


def lines(text):
    return dict(line.split(" = ", 1) for line in text.splitlines() if " = " in line)


def test_requests_exactly_what_was_chosen():
    d = lines(submit.build(REQ, **SPEC))
    assert d["request_cpus"] == "2"
    assert d["request_memory"] == "3584"
    assert d["request_disk"] == str(5 * 1024 * 1024)
    assert "request_gpus" not in d
    assert d["+UnchainedRuntime"] == "900"
    assert d["periodic_hold"] == "(JobStatus == 2) && (time() - JobCurrentStartDate > UnchainedRuntime + 60)"
    assert d["+UnchainedHub"] == '"hub.lab.test"'
    assert d["executable"] == "/opt/env/bin/unchained-singleuser"
    assert d["arguments"] == '"--files-dir jupyter -- /opt/env/bin/jupyterhub-singleuser"'
    assert d["environment"] == '"LANG=C.UTF-8"'


def test_preload_modules_are_launcher_arguments():
    d = lines(submit.build(in_env(preload=["jupyter_server.serverapp"]), **SPEC))
    assert d["arguments"] == ('"--files-dir jupyter --preload=jupyter_server.serverapp -- '
                              '/opt/env/bin/jupyterhub-singleuser"')


def test_the_lmod_module_is_a_launcher_argument_and_checked():
    d = lines(submit.build(in_env(lmod_module="jupyter/2026.11"), **SPEC))
    assert d["arguments"] == '"--files-dir jupyter --lmod=jupyter/2026.11 -- /opt/env/bin/jupyterhub-singleuser"'
    with pytest.raises(ValueError):
        in_env(lmod_module="jupyter/1 x")


def test_a_container_image_makes_a_container_universe_job_that_copies_no_image():
    assert lines(submit.build(REQ, **SPEC))["universe"] == "vanilla"
    d = lines(submit.build(in_env(container_image="/cvmfs/images.example.org/unchained-job/2026.11"), **SPEC))
    assert d["universe"] == "container"
    assert d["container_image"] == "/cvmfs/images.example.org/unchained-job/2026.11"
    assert d["transfer_container"] == "false"
    for bad in ("/images/job image", "/images/$(Owner)", "/images/x\nqueue", "/images/x\n"):
        with pytest.raises(ValueError):
            in_env(container_image=bad)


def test_a_container_job_that_keeps_failing_to_start_is_held_naming_its_image():
    plain = lines(submit.build(REQ, **SPEC))
    assert "NumShadowStarts" not in plain["periodic_hold"]
    d = lines(submit.build(in_env(container_image="/images/job"), **SPEC))
    assert "(NumShadowStarts >= 3) && (CumulativeRemoteUserCpu + CumulativeRemoteSysCpu == 0)" in d["periodic_hold"]
    assert d["periodic_hold"].startswith(f"({plain['periodic_hold']}) || ")
    assert "ContainerImage" in d["periodic_hold_reason"] and "LastRemoteHost" in d["periodic_hold_reason"]
    assert d["periodic_hold_subcode"].endswith(", 4701, 4702)")


def test_gpus_when_asked():
    d = lines(submit.build(Request(1, 1024, 1024, 1, 60, REQ.environment), **SPEC))
    assert d["request_gpus"] == "1"


def test_files_come_back_on_exit_and_eviction():
    d = lines(submit.build(REQ, **SPEC))
    assert d["when_to_transfer_output"] == "ON_EXIT_OR_EVICT"
    assert d["+SpoolOnEvict"] == "False"
    assert d["transfer_input_files"] == d["transfer_output_files"] == "jupyter"
    assert d["initialdir"] == "/home/alice"


def test_no_getenv_and_ends_with_one_queue():
    text = submit.build(REQ, **SPEC)
    assert "getenv" not in text.lower()
    assert text.rstrip().splitlines()[-1] == "queue"
    assert text.count("queue") == 1


@pytest.mark.parametrize("field, value", [
    ("home", "/home/al ice"), ("home", '/home/a"b'), ("files_dir", "jupyter\nqueue"),
    ("hub_id", "$(Owner)"), ("files_dir", "j#x"), ("log_dir", "logs\n"),
])
def test_unsafe_strings_refused(field, value):
    with pytest.raises(ValueError, match="characters outside"):
        submit.build(REQ, **{**SPEC, field: value})


@pytest.mark.parametrize("spec", [
    {"launcher": "/bin/x;rm"}, {"launcher": "/bin/x\n"}, {"environment": {"A": "b c"}},
    {"environment": {"A b": "c"}}, {"command": ["/bin/server", "--x=$(Owner)"]}, {"preload": ["a b"]},
])
def test_unsafe_environment_strings_refused(spec):
    with pytest.raises(ValueError, match="characters outside"):
        in_env(**spec)


def test_workers_taken_for_lost_are_kept_off_until_heard_from_again_and_their_names_checked():
    assert "requirements" not in lines(submit.build(REQ, **SPEC))
    d = lines(submit.build(REQ, **SPEC, lost_workers={"ex2.lab.test": 1700000050.5, "ex1.lab.test": 1700000000}))
    assert d["requirements"] == ('((TARGET.Machine =!= "ex1.lab.test") || (TARGET.LastHeardFrom > 1700000000)) && '
                                 '((TARGET.Machine =!= "ex2.lab.test") || (TARGET.LastHeardFrom > 1700000050))')
    with pytest.raises(ValueError):
        submit.build(REQ, **SPEC, lost_workers={'ex1") || (true': 1})


def test_the_admins_server_arguments_follow_the_command_and_are_checked():
    d = lines(submit.build(REQ, **SPEC, server_args=["--ServerApp.terminals_enabled=False"]))
    assert d["arguments"] == ('"--files-dir jupyter -- /opt/env/bin/jupyterhub-singleuser '
                              '--ServerApp.terminals_enabled=False"')
    with pytest.raises(ValueError, match="Spawner.args"):
        submit.build(REQ, **SPEC, server_args=["a b"])
