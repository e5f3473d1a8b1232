"""Each server's files have a directory of their own, named after the server."""

import pytest
from unchained_hub.contract import server_files_dir


def test_the_default_server_has_files_dir_and_a_named_one_its_own():
    assert server_files_dir("jupyter", "") == "jupyter"
    assert server_files_dir("jupyter", "gpu-run2") == "jupyter-gpu-run2"


@pytest.mark.parametrize("name", ["dot.ted", "../up", "sp ace", "-dash", "x" * 65, "a/b", "new\nline"])
def test_a_name_that_would_not_make_a_directory_of_its_own_is_refused_with_the_rule(name):
    with pytest.raises(ValueError, match="letters, digits, '-' and '_'"):
        server_files_dir("jupyter", name)
