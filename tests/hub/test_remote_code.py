"""Saved models load with `trust_remote_code=True` in a process that cannot import this package, and the
Hub-bound files import only what such a process has."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest
import torch

from hf_visobert_absa import register_auto_classes
from hf_visobert_absa.hub.modeling_visobert_absa import pair_log_odds
from hf_visobert_absa.publishing.hub_files import CODE_FILES
from hf_visobert_absa.publishing.verify import run_clean_python
from tests import helpers
from tests.helpers import tiny_model

PACKAGE = helpers.ROOT / "hf_visobert_absa" / "hub"
HUB_FILES = sorted(CODE_FILES)
ALLOWED_ROOTS = {"torch", "transformers", "__future__"}


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, 0, alias.name
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, node.level, node.module or ""


def check_hub_imports(path: Path) -> list[str]:
    """Problems with the imports of a Hub-bound file: anything but stdlib, torch, transformers and
    `from .sibling import X` (one level, a module that sits beside it)."""
    problems = []
    for line, level, module in _imports(path):
        if level:
            if level != 1 or not module or "." in module or not (path.parent / f"{module}.py").exists():
                problems.append(
                    f"{path.name}:{line}: relative import must be `from .sibling import X` (got level {level}, {module!r})"
                )
            continue
        root = module.split(".")[0]
        if root == "hf_visobert_absa":
            problems.append(f"{path.name}:{line}: package-absolute import {module!r} fails in a clean process")
        elif root not in ALLOWED_ROOTS and root not in sys.stdlib_module_names:
            problems.append(f"{path.name}:{line}: {module!r} is not stdlib, torch or transformers")
    return problems


@pytest.mark.parametrize("name", HUB_FILES)
def test_hub_files_import_only_stdlib_torch_transformers_and_siblings(name):
    assert check_hub_imports(PACKAGE / name) == []


def test_the_import_check_rejects_bad_imports(tmp_path):
    (tmp_path / "sibling.py").write_text("")
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import numpy\nfrom hf_visobert_absa.hub.losses_visobert_absa import focal_loss\nfrom . import sibling\n"
        "from ..up import x\nfrom .sibling import y\nimport os\n"
    )
    problems = check_hub_imports(bad)
    assert len(problems) == 4, problems
    assert "'numpy' is not stdlib" in problems[0]
    assert "package-absolute import 'hf_visobert_absa.hub.losses_visobert_absa'" in problems[1]


@pytest.mark.subprocess
@pytest.mark.parametrize("config_kwargs", [{}, {"original_design": True}], ids=["default", "original-design"])
def test_clean_process_loads_with_all_three_auto_classes(tmp_path, config_kwargs):
    register_auto_classes()
    if config_kwargs.get("original_design"):
        from hf_visobert_absa import ViSoBertAbsaConfig, ViSoBertAbsaForAspectSentiment
        from tests.helpers import tiny_text_config

        torch.manual_seed(0)
        model = ViSoBertAbsaForAspectSentiment(
            ViSoBertAbsaConfig.original_design(text_config=tiny_text_config(), aspects=["Pin", "Camera"])
        )
    else:
        model = tiny_model(seed=2)
    # "trained": take one optimiser step so the weights differ from any initialisation
    ids = torch.tensor([[0, 7, 8, 9, 2], [0, 10, 11, 2, 1]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]])
    labels = torch.zeros(2, model.config.num_aspects, dtype=torch.long)
    labels[0, 0] = 1
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
    optimizer.step()
    model.eval()
    model_dir = tmp_path / "model"
    model.save_pretrained(model_dir)
    saved = json.loads((model_dir / "config.json").read_text())
    assert set(saved["auto_map"]) == {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification"}
    assert {"configuration_visobert_absa.py", "modeling_visobert_absa.py", "losses_visobert_absa.py"} <= {
        p.name for p in model_dir.iterdir()
    }
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask).logits
    flat = pair_log_odds(expected, model.config.can_detect_aspects)
    torch.save({"ids": ids, "mask": mask}, tmp_path / "inputs.pt")

    work = tmp_path / "elsewhere"
    work.mkdir()
    result = run_clean_python(
        f"""
        import torch
        from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification
        inputs = torch.load({str(tmp_path / "inputs.pt")!r})
        path = {str(model_dir)!r}
        config = AutoConfig.from_pretrained(path, trust_remote_code=True)
        assert type(config).__name__ == "ViSoBertAbsaConfig" and "transformers_modules" in type(config).__module__
        outputs, models = [], []
        for auto in (AutoModel, AutoModelForSequenceClassification):
            model = auto.from_pretrained(path, trust_remote_code=True)
            models.append(model)
            assert not model.training
            assert "transformers_modules" in type(model).__module__, type(model).__module__
            with torch.no_grad():
                outputs.append(model(input_ids=inputs["ids"], attention_mask=inputs["mask"]).logits)
        torch.save(outputs, "out.pt")
        assert not PACKAGE_IMPORTABLE
        print("loaded", [type(m).__name__ for m in models], config.label_scheme)
        """,
        work,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PACKAGE_IMPORTABLE" not in result.stdout
    assert "loaded ['ViSoBertAbsaForAspectSentiment', 'ViSoBertAbsaForSequenceClassification']" in result.stdout
    assert torch.sigmoid(flat).flatten().tolist() == pytest.approx(
        expected.softmax(-1)[..., 1 if model.config.can_detect_aspects else 0 :].flatten().tolist(), abs=1e-6
    )
    for logits, want in zip(torch.load(work / "out.pt"), (expected, flat), strict=True):
        # another process may run another thread count, which moves the last bits of a float32 logit (seen: 1.9e-9)
        diff = (logits - want).abs().max().item()
        assert diff <= 1e-5, f"clean-process logits differ from the in-process ones by {diff:.3g} (> 1e-5)"
