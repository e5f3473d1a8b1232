"""notebook-env/build refuses bad input before it builds anything, and leaves
nothing at the final path when it fails; the lock matches the spec.

The builds themselves (venv backend, real packages) run on the lab's
publisher: tests/lab/test_notebook_env.py."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOK_ENV = Path(__file__).resolve().parents[2] / "notebook-env"
sys.path.insert(0, str(NOTEBOOK_ENV))
import envspec  # noqa: E402


@pytest.fixture
def prefix(tmp_path):
    root = tmp_path / "cvmfs"
    root.mkdir()
    return root


@pytest.fixture
def wheels(tmp_path):
    d = tmp_path / "dist"
    d.mkdir()
    (d / "jupyterhub_unchained-0.1.0-py3-none-any.whl").write_bytes(b"")
    return d


def build(*args):
    return subprocess.run([sys.executable, NOTEBOOK_ENV / "build", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_the_committed_lock_was_made_from_the_committed_spec():
    spec = envspec.load()
    envspec.read_lock(spec, spec.lock_path())  # raises when environment.yml changed without a new lock


def test_the_venv_backend_leaves_out_what_pypi_lacks_and_says_why():
    requirements, left_out = envspec.load().pypi_requirements()
    assert set(left_out) == {"r-base", "r-irkernel"}
    assert "jupyterhub==6.1.1" in requirements  # conda's jupyterhub-singleuser
    assert "matplotlib==3.11.2" in requirements  # conda's matplotlib-base
    assert not any(r.startswith(("python", "pip", "jupyterhub-unchained")) for r in requirements)


@pytest.mark.parametrize("name,version,message", [
    ("rstudio", "2026.11", "unknown environment 'rstudio'"),
    ("jupyter", "latest", "is not a release version like 2026.11"),
    ("jupyter", "2026.11;rm", "is not a release version"),
    ("jupyter", "../../etc", "is not a release version"),
])
def test_bad_names_and_versions_are_refused(prefix, wheels, name, version, message):
    result = build("--prefix", prefix, "--name", name, "--version", version, "--local-packages", wheels)
    assert result.returncode != 0
    assert message in result.stderr
    assert list(prefix.iterdir()) == []


@pytest.mark.parametrize("file,content,message", [
    ("keep", "published", "exists already: a published version is never rebuilt"),
    (".unchained-building", "4242\n", "is the leftover of a build that was killed"),
])
def test_an_existing_version_is_never_touched(prefix, wheels, file, content, message):
    """A published version, or what a killed build left (its marker still in it)."""
    existing = prefix / "envs" / "jupyter" / "2026.11"
    existing.mkdir(parents=True)
    (existing / file).write_text(content)
    result = build("--prefix", prefix, "--name", "jupyter", "--version", "2026.11", "--local-packages", wheels)
    assert result.returncode != 0
    assert message in result.stderr
    assert (existing / file).read_text() == content


def test_our_package_must_be_given(prefix, tmp_path):
    result = build("--prefix", prefix, "--name", "jupyter", "--version", "2026.11", "--local-packages", tmp_path)
    assert "no jupyterhub-unchained wheel" in result.stderr


def test_a_lock_from_another_spec_fails_and_leaves_nothing(prefix, wheels, tmp_path):
    spec_dir = tmp_path / "spec"
    (spec_dir / "locks").mkdir(parents=True)
    spec = spec_dir / "environment.yml"
    spec.write_text((NOTEBOOK_ENV / "environment.yml").read_text().replace("numpy=2.4.6", "numpy=2.3.0"))
    shutil.copy(envspec.load().lock_path(), spec_dir / "locks")
    result = build("--prefix", prefix, "--name", "jupyter", "--version", "2026.11", "--local-packages", wheels,
                   "--spec", spec, "--backend", "venv")
    assert result.returncode != 0
    assert "was not made from the current environment.yml" in result.stderr
    assert "removing the unfinished" in result.stdout
    assert not (prefix / "envs" / "jupyter" / "2026.11").exists()


def test_a_spec_that_cannot_be_read_is_refused(prefix, wheels, tmp_path):
    spec = tmp_path / "environment.yml"
    spec.write_text("name: jupyter\ndependencies:\n  - python=3.13\n  - numpy>=2\n")
    result = build("--prefix", prefix, "--name", "jupyter", "--version", "2026.11", "--local-packages", wheels,
                   "--spec", spec)
    assert "cannot read the dependency 'numpy>=2'" in result.stderr
