"""Packaging written once: the version in pyproject.toml only, extras that name each other instead of repeating
requirements, and the ruff version of CI equal to the pre-commit hook's."""

from __future__ import annotations

import importlib.metadata
import re

import pytest

from tests import helpers

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

PYPROJECT = tomllib.loads((helpers.ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_version_is_written_once_in_pyproject():
    import hf_visobert_absa

    version = PYPROJECT["project"]["version"]
    installed = importlib.metadata.version("hf-visobert-absa")
    assert installed == version, f"the installed metadata says {installed}: reinstall (`pip install -e .`)"
    assert hf_visobert_absa.__version__ == version
    written = [
        f"{path.relative_to(helpers.ROOT)}: {line.strip()}"
        for path in (helpers.ROOT / "hf_visobert_absa").rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*__version__\s*=\s*['\"]\d+\.\d+", line)  # a fallback like "0+unknown" is no version
    ]
    assert written == [], f"a second version source; read it from the package metadata instead: {written}"


def test_extras_name_each_other_instead_of_repeating_requirements():
    extras = PYPROJECT["project"]["optional-dependencies"]
    core = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    owner: dict[str, str] = {}
    for extra, requirements in extras.items():
        for requirement in requirements:
            name = _name(requirement)
            if name == "hf-visobert-absa":  # a self-reference: `hf-visobert-absa[int8]`
                wanted = re.search(r"\[(.*)\]", requirement).group(1).split(",")
                assert set(wanted) <= set(extras), f"`{extra}` names an extra that does not exist: {requirement}"
                continue
            assert name not in core, f"`{name}` is a core dependency and also in the extra `{extra}`"
            assert name not in owner, f"`{name}` is in the extras `{owner[name]}` and `{extra}`: name the extra"
            owner[name] = extra


def test_ci_ruff_is_the_pre_commit_ruff():
    config = (helpers.ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    rev = re.search(r"astral-sh/ruff-pre-commit\s+rev:\s*v?([0-9.]+)", config).group(1)
    pins = [r for r in PYPROJECT["project"]["optional-dependencies"]["dev"] if _name(r) == "ruff"]
    assert pins == [f"ruff=={rev}"]
    assert ".venv/bin/ruff check ." in (helpers.ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
