"""Docs cannot go stale: every module path, repository file, command and test that the documentation names exists.

Where references are read (`doc_sources`): README.md, docs/*.md and every file under model_card/, whole; the
docstrings and comments of every Python file under hf_visobert_absa/, tests/ and benchmarks/, and push_to_hub.py
(except this file, whose docstrings show stale references on purpose).

What counts as a reference (`extract_references`), and how it is checked (`problem`):

- **module**: a dotted name starting with `hf_visobert_absa.`, `benchmarks.` or `tests.` (so also the module of
  `python -m ...`). The longest prefix that is a module file of this repository must exist, and what follows it
  must be a name defined at the top level of that module (a function, class, assignment or import) or, one level
  down, a name in that class's body; a name the source does not show (a package's lazy `__getattr__`, an inherited
  attribute) is looked up by importing the module.
- **path**: a slash-separated path whose first component is a top-level entry of this repository
  (`REPO_ENTRIES`: `hf_visobert_absa/...`, `docs/...`, `benchmarks/...`, `tests/...`, `scripts/...`, ...). It must
  exist (a path with `*` must match something). Everything else is not a repository path and is not checked:
  `../shared/...`, a user's own files in examples (`path/to/...`, `runs/phone/model`, `my_reviews.csv`), a Hub
  repository id (`uitnlp/visobert`), a path relative to a subpackage (`hub/losses_visobert_absa.py`).
- **command**: `hf-visobert-absa COMMAND` or `python -m hf_visobert_absa.cli.main COMMAND` written as a command
  (at the start of a line or of a code span, or after `$ `): COMMAND must be a key of
  `hf_visobert_absa.cli.main.COMMANDS`. Prose that names the project (`hf-visobert-absa does not ...`) is no
  command.
- **test**: `file.py::test_name` (docs/RELIABILITY.md's tables cite tests this way; `test_x*` is a prefix): a test
  function of that name must exist in a test file of that name; in a table cell, a bare `test_name` after it
  refers to the same file (or any test file).
"""

from __future__ import annotations

import ast
import importlib
import io
import re
import subprocess
import tokenize
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pytest

from tests import helpers

ROOT = helpers.ROOT

#: The top-level entries of the repository: a path is a repository path when its first component is one of these.
#: `test_repo_entries_match_the_repository` keeps this list equal to what git tracks.
REPO_ENTRIES = (
    ".ci",
    ".gitignore",
    ".pre-commit-config.yaml",
    "README.md",
    "benchmarks",
    "docs",
    "hf_visobert_absa",
    "model_card",
    "push_to_hub.py",
    "pyproject.toml",
    "scripts",
    "tests",
)
#: Top-level packages whose dotted names are checked as module references.
PACKAGES = ("hf_visobert_absa", "benchmarks", "tests")

_MODULE = re.compile(r"(?<![\w.-])((?:" + "|".join(PACKAGES) + r")(?:\.[A-Za-z_]\w*)+)")
_PATH = re.compile(r"(?<![\w./~-])(\.?[\w-]+(?:/[\w.*-]+)+/?)")
_COMMAND = re.compile(
    r"(?:^[ \t>]*|`|\$ )(?:hf-visobert-absa|python -m hf_visobert_absa\.cli\.main) ([a-z][a-z0-9_-]*)", re.M
)
_TEST = re.compile(r"`?([a-z_0-9]+\.py)::(test_[A-Za-z0-9_]+)(\*?)")


class Reference(NamedTuple):
    """One thing a document names: `kind` is `module`, `path`, `command` or `test`; `line` counts from 1."""

    kind: str
    value: str
    line: int


def extract_references(text: str, first_line: int = 1) -> list[Reference]:
    """Every module path, repository path, command and test citation in `text` (see the module docstring).

    Args:
        text (`str`): Markdown or the text of a docstring or comment.
        first_line (`int`, *optional*, defaults to 1): the line number of the first line of `text` in its file.

    Returns:
        `list[Reference]`: in order of appearance within each kind.

    Example:

    ```python
    >>> extract_references("See `hf_visobert_absa.nope` and docs/NOPE.md, not ../shared/x.md.")
    [Reference(kind='module', value='hf_visobert_absa.nope', line=1), Reference(kind='path', value='docs/NOPE.md', line=1)]
    ```
    """

    def line_of(offset: int) -> int:
        return first_line + text.count("\n", 0, offset)

    found = [Reference("module", m.group(1), line_of(m.start(1))) for m in _MODULE.finditer(text)]
    for match in _PATH.finditer(text):
        value = match.group(1).rstrip(".")
        if value.split("/")[0] in REPO_ENTRIES:
            found.append(Reference("path", value, line_of(match.start(1))))
    found += [Reference("command", m.group(1), line_of(m.start(1))) for m in _COMMAND.finditer(text)]
    found += [
        Reference("test", m.group(1) + "::" + m.group(2) + m.group(3), line_of(m.start())) for m in _TEST.finditer(text)
    ]
    return found


def doc_sources() -> Iterator[tuple[Path, str, int]]:
    """`(file, text, first line)` for every checked document and every docstring and comment of the Python files."""
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "model_card").iterdir())]:
        if path.is_file():
            yield path, path.read_text(encoding="utf-8"), 1
    python_files = [ROOT / "push_to_hub.py"]
    for package in PACKAGES:
        python_files += sorted((ROOT / package).rglob("*.py"))
    for path in python_files:
        if path == Path(__file__).resolve():  # this file's docstrings show stale references on purpose
            continue
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                    if isinstance(first.value.value, str):
                        yield path, first.value.value, first.lineno
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                yield path, token.string, token.start[0]


@cache
def _defined_names(module_file: Path) -> dict[str, set[str] | None]:
    """Top-level names of a module -> the names in its body when it is a class (`None` otherwise)."""
    tree = ast.parse(module_file.read_text(encoding="utf-8"))
    names: dict[str, set[str] | None] = {}

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                members = {n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
                for n in node.body:
                    targets = [n.target] if isinstance(n, ast.AnnAssign) else getattr(n, "targets", [])
                    members |= {t.id for t in targets if isinstance(t, ast.Name)}
                names[node.name] = members
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names[node.name] = None
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                for target in targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = None
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names.update({(alias.asname or alias.name).split(".")[0]: None for alias in node.names})
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body)
                visit(getattr(node, "orelse", []))

    visit(tree.body)
    return names


def _module_file(parts: list[str]) -> Path | None:
    base = ROOT.joinpath(*parts)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


@cache
def _commands() -> frozenset[str]:
    from hf_visobert_absa.cli.main import COMMANDS

    return frozenset(COMMANDS)


@cache
def _test_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for path in helpers.TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        names.setdefault(path.name, set()).update(defined)
    return names


def _test_exists(name: str, files: list[str] | None) -> bool:
    prefix = name.endswith("*")
    name = name.rstrip("*")
    pool = set().union(*(_test_names().get(f, set()) for f in files)) if files else set().union(*_test_names().values())
    return any(n == name or (prefix and n.startswith(name)) for n in pool)


def problem(reference: Reference) -> str | None:
    """Why `reference` is stale, or `None` when what it names exists."""
    kind, value = reference.kind, reference.value
    if kind == "path":
        if "*" in value:
            return None if any(ROOT.glob(value.rstrip("/"))) else "no file matches this pattern"
        return None if (ROOT / value).exists() else "no such file or folder"
    if kind == "command":
        return None if value in _commands() else f"no such command (the commands: {', '.join(sorted(_commands()))})"
    if kind == "test":
        file, name = value.split("::")
        return None if _test_exists(name, [file]) else "no such test"
    parts = value.split(".")
    for end in range(len(parts), 0, -1):
        module_file = _module_file(parts[:end])
        if module_file is not None:
            break
    else:
        return "no such module"
    rest = parts[end:]
    if not rest:
        return None
    names = _defined_names(module_file)
    if rest[0] not in names:
        reason = f"`{'.'.join(parts[:end])}` has no module or top-level name `{rest[0]}`"
    elif len(rest) > 1 and names[rest[0]] is not None and rest[1] not in names[rest[0]]:
        reason = f"class `{rest[0]}` has no attribute `{rest[1]}`"
    else:
        return None
    return None if _importable(parts[:end], rest[:2]) else reason


def _importable(module: list[str], names: list[str]) -> bool:
    """A name the source does not show (a package's lazy `__getattr__`, an inherited attribute), found by import."""
    try:
        value = importlib.import_module(".".join(module))
        for name in names:
            value = getattr(value, name)
    except (ImportError, AttributeError):
        return False
    return True


# ------------------------------------------------------------------------------------------------ the extractor
def test_extractor_finds_each_kind_and_flags_what_does_not_exist():
    text = (
        "Run `hf-visobert-absa train` or\n"
        "$ hf-visobert-absa trian --help\n"
        "python -m hf_visobert_absa.cli.main predict; python -m benchmarks.no_such_benchmark\n"
        "See hf_visobert_absa.evaluation.metrics.compute_absa_metrics and hf_visobert_absa.model_card.\n"
        "Files: docs/RESULTS.md, docs/NOT_A_DOC.md, benchmarks/results/*.json and tests/nothing/*.py.\n"
        "Cited: test_references.py::test_extractor_finds_each_kind_and_flags_what_does_not_exist, x.py::test_gone.\n"
        "Class member: hf_visobert_absa.hub.configuration_visobert_absa.ViSoBertAbsaConfig.no_such_member.\n"
    )
    found = {(r.kind, r.value): problem(r) for r in extract_references(text)}
    assert found == {
        ("command", "train"): None,
        ("command", "trian"): "no such command (the commands: demo, evaluate, explain, export, predict, train)",
        ("command", "predict"): None,
        ("module", "hf_visobert_absa.cli.main"): None,
        ("module", "benchmarks.no_such_benchmark"): "`benchmarks` has no module or top-level name `no_such_benchmark`",
        ("module", "hf_visobert_absa.evaluation.metrics.compute_absa_metrics"): None,
        ("module", "hf_visobert_absa.model_card"): "`hf_visobert_absa` has no module or top-level name `model_card`",
        ("path", "docs/RESULTS.md"): None,
        ("path", "docs/NOT_A_DOC.md"): "no such file or folder",
        ("path", "benchmarks/results/*.json"): None,
        ("path", "tests/nothing/*.py"): "no file matches this pattern",
        ("test", "test_references.py::test_extractor_finds_each_kind_and_flags_what_does_not_exist"): None,
        ("test", "x.py::test_gone"): "no such test",
        ("module", "hf_visobert_absa.hub.configuration_visobert_absa.ViSoBertAbsaConfig.no_such_member"): (
            "class `ViSoBertAbsaConfig` has no attribute `no_such_member`"
        ),
    }


def test_extractor_ignores_what_is_not_a_repository_reference():
    text = (
        "`hf-visobert-absa` does not ship a distributed engine; hf-visobert-absa does not either.\n"
        "--train_file ../shared/data/phone_reviews/train.csv --output_dir runs/phone path/to/my_reviews.csv\n"
        "from the Hub: uitnlp/visobert; inside the package: hub/losses_visobert_absa.py; a placeholder: tests.scripts.<name>\n"
    )
    assert [(r.kind, r.value) for r in extract_references(text)] == [("module", "tests.scripts")]


def test_references_carry_their_line_numbers():
    references = extract_references("one\ntwo docs/NOPE.md\n", first_line=10)
    assert references == [Reference("path", "docs/NOPE.md", 11)]


def test_repo_entries_match_the_repository():
    try:
        tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked top-level entries are unknown")
    entries = {line.split("/")[0] for line in tracked.splitlines() if line}
    entries = {e for e in entries if (ROOT / e).exists()}  # a deletion not committed yet
    assert entries <= set(REPO_ENTRIES), f"add the new top-level entries to REPO_ENTRIES: {entries - set(REPO_ENTRIES)}"


# --------------------------------------------------------------------------------------------- the documentation
def test_every_reference_in_the_documentation_exists():
    stale = []
    seen = 0
    for path, text, first_line in doc_sources():
        for reference in extract_references(text, first_line):
            seen += 1
            reason = problem(reference)
            if reason is not None:
                where = f"{path.relative_to(ROOT)}:{reference.line}"
                stale.append(f"{where}: {reference.kind} `{reference.value}`: {reason}")
    assert seen > 400  # the extractor still finds the references it was written for
    assert stale == [], "stale references:\n" + "\n".join(stale)


def test_every_test_the_reliability_table_cites_exists():
    text = (ROOT / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    cited = [r for r in extract_references(text) if r.kind == "test"]
    assert len(cited) > 40
    # the bare names after a `;` or `,` in the same cell: `test_x` without a file refer to the previous file
    for cell in re.findall(r"\| ([^|]*::[^|]*) \|\s*$", text, flags=re.M):
        file = None
        for path, name, star in re.findall(r"`([a-z_]+\.py)::|`(test_[A-Za-z0-9_]+)(\*?)(?![A-Za-z0-9_.])", cell):
            file = path or file
            if name:
                found = _test_exists(name + star, [file]) or _test_exists(name + star, None)
                assert found, f"docs/RELIABILITY.md cites {name}{star} (after {file}), which does not exist"


def test_the_readme_lists_the_public_api():
    import hf_visobert_absa

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    paragraph = text[text.index("Public API (") : text.index("Module paths below the root are internal")]
    listed = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", paragraph)) - {"__all__"}
    assert listed == set(hf_visobert_absa.__all__), (
        f"README.md's public API list: add {sorted(set(hf_visobert_absa.__all__) - listed)}, "
        f"remove {sorted(listed - set(hf_visobert_absa.__all__))}"
    )
