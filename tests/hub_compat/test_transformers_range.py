"""The Hub code runs on every transformers it claims (`HUB_CODE_REQUIRES`): a folder written by `train` and an
exported one load in a clean process of a clean virtual environment at each end of the range (and the last 4.x
release), through `AutoConfig`, `AutoTokenizer`, `AutoModel`, `AutoModelForSequenceClassification` and the three
`pipeline(...)` calls, and give the package's own outputs.

The environments are built from the package index once and kept under `$HF_VISOBERT_ABSA_COMPAT_CACHE` (default
`~/.cache/hf-visobert-absa/compat`); a later run reuses them. `HF_VISOBERT_ABSA_SKIP_COMPAT=1` skips these tests
(e.g. on a machine with no package index); nothing else does, so CI proves the range on every run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertModel

from hf_visobert_absa import ViSoBertAbsaForAspectSentiment
from hf_visobert_absa.cli.main import main
from hf_visobert_absa.data.tokenization import load_tokenizer
from hf_visobert_absa.hub.pipeline_visobert_absa import AspectSentimentPipeline
from hf_visobert_absa.hub.tasks_visobert_absa import ABSA_TASK, HUB_CODE_REQUIRES
from hf_visobert_absa.publishing.export import (
    PROBE_CALLS,
    PROBE_TEXTS,
    compare_reports,
    export_model,
    in_process_report,
)
from hf_visobert_absa.publishing.verify import clean_process_report, max_abs_diff, run_clean_python
from tests.helpers import tiny_text_config, tiny_tokenizer

pytestmark = [
    pytest.mark.subprocess,
    pytest.mark.skipif(os.environ.get("HF_VISOBERT_ABSA_SKIP_COMPAT") == "1", reason="HF_VISOBERT_ABSA_SKIP_COMPAT=1"),
]

#: The oldest supported release (the lower end of `HUB_CODE_REQUIRES`), the last 4.x release, the newest 5.x.
ENDS = {
    "4.45-oldest": "transformers==4.45.2",
    "4.x-newest": "transformers>=4.57,<5",
    "5.x-newest": "transformers>=5,<6",
}
TORCH = "torch==2.13.0"  # the CPU wheel on these machines; the Hub code uses torch's long-stable public API only
ASPECTS = ["Pin", "Camera", "Giá"]
ROWS = [
    ("pin trâu camera chụp đẹp", {"Pin": "positive", "Camera": "positive"}),
    ("pin yếu giá đắt", {"Pin": "negative", "Giá": "negative"}),
    ("camera xấu", {"Camera": "negative"}),
    ("giá rẻ", {"Giá": "positive"}),
]


def test_the_oldest_end_is_the_one_the_hub_code_claims():
    assert HUB_CODE_REQUIRES["transformers"].startswith(">=" + ENDS["4.45-oldest"].split("==")[1].rsplit(".", 1)[0])


def _cache() -> Path:
    default = Path.home() / ".cache" / "hf-visobert-absa" / "compat"
    return Path(os.environ.get("HF_VISOBERT_ABSA_COMPAT_CACHE", default))


def compat_python(name: str, spec: str) -> Path:
    """The interpreter of a clean virtual environment with `torch` and `spec` (nothing of this package), built once.
    A half-built environment is never reused: it is built under a temporary name and renamed when complete."""
    home = _cache() / f"{name}-py{sys.version_info.major}{sys.version_info.minor}"
    python = home / "bin" / "python"
    complete = home / "COMPLETE"
    if complete.is_file() and complete.read_text(encoding="utf-8").strip() == spec:
        return python
    building = home.with_name(home.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(building)], check=True)
    install = [str(building / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    result = subprocess.run([*install, TORCH, spec], capture_output=True, text=True)
    assert result.returncode == 0, f"could not build the {spec} environment:\n{result.stderr[-3000:]}"
    (building / "COMPLETE").write_text(spec, encoding="utf-8")
    building.rename(home)
    return python


def _jsonl(path: Path, rows: list) -> Path:
    lines = (json.dumps({"text": t, "aspects": a}, ensure_ascii=False) + "\n" for t, a in rows)
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """A `train`-written model folder and its export, each with the package's own outputs on the probe texts."""
    root = tmp_path_factory.mktemp("compat")
    encoder = root / "encoder"
    torch.manual_seed(0)
    BertModel(BertConfig(**{k: v for k, v in tiny_text_config("bert").items() if k != "model_type"})).save_pretrained(
        encoder
    )
    tiny_tokenizer().save_pretrained(encoder)
    data = root / "data"
    data.mkdir()
    _jsonl(data / "train.jsonl", ROWS * 3)
    _jsonl(data / "validation.jsonl", ROWS)
    run = root / "run"
    argv = ["train", "--encoder", str(encoder), "--data_dir", str(data), "--output_dir", str(run),
            "--aspects", ",".join(ASPECTS), "--num_train_epochs", "1", "--use_cpu", "true", "--disable_tqdm", "true",
            "--max_length", "48"]  # fmt: skip
    assert main(argv) == 0
    export_model(run / "model", root / "exported", dataset_split="validation", verify=False)
    return {
        name: (folder, _expected(folder))
        for name, folder in (("trained", run / "model"), ("exported", root / "exported"))
    }


def _expected(folder: Path) -> dict:
    model = ViSoBertAbsaForAspectSentiment.from_pretrained(folder).eval()
    pipe = AspectSentimentPipeline(model=model, tokenizer=load_tokenizer(folder), device="cpu")
    report = in_process_report(pipe, PROBE_TEXTS)
    report["evidence"] = pipe(PROBE_TEXTS, return_evidence=True, return_all_aspects=True)
    return report


def _clean_evidence(folder: Path, python: Path, workdir: Path) -> list:
    """`return_evidence=True` through `pipeline(model=folder)` in a clean process of the environment."""
    result = run_clean_python(
        f"""
        import json
        from transformers import pipeline
        absa = pipeline(model={str(folder)!r}, trust_remote_code=True, device="cpu")
        print("EVIDENCE" + json.dumps(absa({PROBE_TEXTS!r}, return_evidence=True, return_all_aspects=True)))
        """,
        workdir,
        python=python,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.split("EVIDENCE", 1)[1])


@pytest.mark.parametrize("end", list(ENDS))
def test_saved_folders_load_and_agree_on_every_end_of_the_range(end, folders, tmp_path):
    python = compat_python(end, ENDS[end])
    for name, (folder, expected) in folders.items():
        report = clean_process_report(folder, PROBE_TEXTS, PROBE_CALLS, task=ABSA_TASK, python=python, timeout=600)
        problems, _ = compare_reports(report, expected)
        assert problems == [], f"{name} folder on transformers {report['transformers_version']}: {problems}"
        assert report["package_visible_on_path"] is False  # a clean environment: the package is not installed
        assert report["pipeline_inferred_task"] == ABSA_TASK
        major = ENDS[end].split("transformers")[1].lstrip("=><")[0]
        assert report["transformers_version"].startswith(major)
        evidence = _clean_evidence(folder, python, tmp_path / name)
        assert max_abs_diff(evidence, expected["evidence"]) <= 1e-4, f"{name}: evidence differs on {end}"
