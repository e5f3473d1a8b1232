"""The notebook environment's spec (environment.yml) and its lock files.

One place for what the build and the lock tool both need to know: how a
conda-forge name maps to PyPI, what PyPI does not have, and where the lock
for a Python version and platform lives.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_SPEC = HERE / "environment.yml"

# Our own package: not on any index, built from hub/ and passed to the build.
OWN_PACKAGE = "jupyterhub-unchained"

# conda-forge names whose PyPI distribution is called differently.
PYPI_NAMES = {
    "jupyterhub-singleuser": "jupyterhub",
    "matplotlib-base": "matplotlib",
}
# conda-forge packages that PyPI does not have, and why; the venv backend
# leaves them out and says so.
NOT_ON_PYPI = {
    "r-base": "R is not distributed on PyPI",
    "r-irkernel": "the R kernel needs R",
}
# Handled by the backend itself, not installed as packages.
TOOLING = {"python", "pip"}

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
VERSION_PATTERN = re.compile(r"^[0-9]{1,8}(\.[0-9]{1,8}){1,3}$")
# "name=1.2.3" or "name==1.2.3" or "name" (conda match specs we accept).
DEP_PATTERN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*(?:==?\s*([0-9][A-Za-z0-9.*+-]*))?$")


class SpecError(Exception):
    """The spec or its lock is unusable; the message says why and what to do."""


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str  # "" when not pinned

    @property
    def pypi_name(self):
        return PYPI_NAMES.get(self.name, self.name)


@dataclass(frozen=True)
class Spec:
    path: Path
    name: str
    python: str  # "3.13"
    conda: tuple  # of Dependency, without python and pip
    pip: tuple  # of str, the pip: section as written
    digest: str  # sha256 of the file, recorded in locks and builds

    def pypi_requirements(self):
        """(requirements for pip, {left-out name: reason}) for the venv backend."""
        requirements, left_out = [], {}
        for dep in self.conda:
            if dep.name in NOT_ON_PYPI:
                left_out[dep.name] = NOT_ON_PYPI[dep.name]
            elif dep.version:
                requirements.append(f"{dep.pypi_name}=={dep.version.rstrip('.*')}")
            else:
                requirements.append(dep.pypi_name)
        requirements += [p for p in self.pip if p != OWN_PACKAGE]
        return requirements, left_out

    def lock_path(self, python=None, machine="x86_64"):
        python = python or self.python
        return self.path.parent / "locks" / f"pypi-cp{python.replace('.', '')}-{machine}.txt"


def load(path=DEFAULT_SPEC):
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw)
    except OSError as e:
        raise SpecError(f"cannot read the spec {path}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise SpecError(f"{path} is not valid YAML: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        raise SpecError(f"{path} has no 'dependencies' list")
    name = data.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise SpecError(f"{path}: 'name' must match {NAME_PATTERN.pattern}")
    python, conda, pip = None, [], ()
    for item in data["dependencies"]:
        if isinstance(item, dict) and set(item) == {"pip"} and isinstance(item["pip"], list):
            pip = tuple(str(p) for p in item["pip"])
            continue
        match = DEP_PATTERN.match(str(item).strip()) if isinstance(item, str) else None
        if not match:
            raise SpecError(f"{path}: cannot read the dependency {item!r} (use 'name' or 'name=version')")
        dep = Dependency(match.group(1), match.group(2) or "")
        if dep.name == "python":
            python = dep.version
        elif dep.name not in TOOLING:
            conda.append(dep)
    if not python or not re.match(r"^3\.[0-9]+$", python):
        raise SpecError(f"{path}: pin Python to a minor version, like 'python=3.13'")
    return Spec(path, name, python, tuple(conda), pip, hashlib.sha256(raw).hexdigest())


def read_lock(spec, lock_path):
    """The lock's requirement lines, after checking it was made from this spec."""
    try:
        text = lock_path.read_text()
    except FileNotFoundError:
        raise SpecError(f"no lock file {lock_path}: run notebook-env/lock to make it") from None
    match = re.search(r"^# spec-sha256: ([0-9a-f]{64})$", text, re.M)
    if not match or match.group(1) != spec.digest:
        raise SpecError(f"{lock_path} was not made from the current {spec.path.name} (it changed since): "
                        "run notebook-env/lock and commit the new lock")
    return text
