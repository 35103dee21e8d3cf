"""transformers 4.x copies a local model folder's code one level deep: a loaded file's own relative imports, not
theirs (5.x and Hub repositories follow them all). So each file an auto class or the pipeline loads must import,
itself, every sibling its siblings import."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hf_visobert_absa.hub import configuration_visobert_absa, modeling_visobert_absa, pipeline_visobert_absa

HUB = Path(configuration_visobert_absa.__file__).parent
#: What transformers 4.x matches as a relative import (`get_relative_imports`), indented ones included.
RELATIVE_IMPORT = re.compile(r"^\s*(?:from\s+\.(\S+)\s+import|import\s+\.(\S+)\s*$)", re.MULTILINE)
#: The files `auto_map` and `custom_pipelines` name: the ones transformers loads first.
ENTRY_MODULES = [configuration_visobert_absa, modeling_visobert_absa, pipeline_visobert_absa]


def direct_imports(name: str) -> set[str]:
    text = (HUB / f"{name}.py").read_text(encoding="utf-8")
    return {a or b for a, b in RELATIVE_IMPORT.findall(text)}


def closure(name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        for needed in direct_imports(todo.pop()) - seen:
            seen.add(needed)
            todo.append(needed)
    return seen - {name}


def test_the_matcher_sees_indented_and_multi_line_imports():
    text = "from .a import (\n    x,\n)\n    from .b import y\nimport .c\n"
    assert {a or b for a, b in RELATIVE_IMPORT.findall(text)} == {"a", "b", "c"}


@pytest.mark.parametrize("module", ENTRY_MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_each_entry_module_imports_every_sibling_it_needs_itself(module):
    name = module.__name__.rsplit(".", 1)[-1]
    missing = closure(name) - direct_imports(name)
    assert not missing, f"{name}.py needs {sorted(missing)} through its siblings: import them in {name}.py too"


def test_the_model_file_reaches_every_hub_file():
    assert closure("modeling_visobert_absa") | {"modeling_visobert_absa"} == {p.stem for p in HUB.glob("*.py")} - {
        "__init__"
    }
