"""`hf-visobert-absa export`: the allow-list, the refusals, and the clean-process verification of every entry
point (AutoConfig, AutoTokenizer, AutoModel, AutoModelForSequenceClassification, both `pipeline(...)` forms)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from hf_visobert_absa.cli.main import main as cli_main
from hf_visobert_absa.errors import AbsaInputError
from hf_visobert_absa.publishing.export import (
    VERIFY_TOLERANCE,
    ExportError,
    check_allowed_files,
    compare_reports,
    export_model,
    inspect_checkpoint,
)
from hf_visobert_absa.publishing.hub_files import CODE_FILES
from tests.helpers import RUN_METRICS, STRAY_FILES, save_tiny_checkpoint

EXPECTED_FILES = sorted(
    {"README.md", "config.json", "model.safetensors", "metrics.json", "tokenizer.json", "tokenizer_config.json"}
    | CODE_FILES
)


def _isolated_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_MODULES_CACHE", str(home / "modules"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return save_tiny_checkpoint(tmp_path_factory.mktemp("run") / "model")


@pytest.fixture(scope="module")
def exported(tmp_path_factory, checkpoint):
    """ONE export through the CLI, verification included; shared by the tests of this module."""
    out = tmp_path_factory.mktemp("exported") / "tiny-absa"
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        _isolated_env(mp, tmp_path_factory.mktemp("hf_home"))
        code = cli_main(
            [
                "export",
                str(checkpoint),
                str(out),
                "--repo-id",
                "my-org/tiny-absa",
                "--dataset",
                "phone_reviews",
                "--json",
            ]
        )
    assert code == 0, f"export failed with exit code {code}:\n{stderr.getvalue()[-3000:]}"
    return code, out, json.loads(stdout.getvalue())


@pytest.mark.subprocess
def test_export_verifies_every_entry_point_in_a_clean_process(exported):
    code, out, result = exported
    assert code == 0
    check = result["verification"]
    # the clean process could not see the package: the folder's own code did the work
    assert check["package_visible_on_path"] is False and check["package_importable"] is False
    for name, cls in check["classes"].items():
        assert cls.startswith("transformers_modules."), (name, cls)
    assert check["classes"]["pipeline_class"].endswith("pipeline_visobert_absa.AspectSentimentPipeline")
    assert check["pipeline_inferred_task"] == "aspect-sentiment-analysis"
    # outputs equal to the in-process model's within the tolerance (the two processes may run different thread
    # counts; the measured difference is in the message)
    diffs = check["logits_max_abs_diff"]
    assert set(diffs) == {"AutoModel", "AutoModelForSequenceClassification"}
    assert all(d <= VERIFY_TOLERANCE for d in diffs.values()), f"logits max abs diff {diffs} > {VERIFY_TOLERANCE}"
    assert check["pipeline_outputs_equal"] is True and check["tolerance"] == VERIFY_TOLERANCE
    assert check["tokenizer_class"]


def test_only_allow_listed_files_travel(exported, checkpoint):
    _, out, result = exported
    names = sorted(p.name for p in out.iterdir())
    assert names == EXPECTED_FILES == result["files"]
    for stray in (*STRAY_FILES, "trainer_state.json", "checkpoint-12"):
        assert (checkpoint / stray).exists() and not (out / stray).exists()
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pth", ".pkl", ".pickle", ".csv"))]


def test_config_has_auto_map_and_custom_pipeline(exported):
    config = json.loads((exported[1] / "config.json").read_text())
    assert config["auto_map"] == {
        "AutoConfig": "configuration_visobert_absa.ViSoBertAbsaConfig",
        "AutoModel": "modeling_visobert_absa.ViSoBertAbsaForAspectSentiment",
        "AutoModelForSequenceClassification": "modeling_visobert_absa.ViSoBertAbsaForSequenceClassification",
    }
    pipe = config["custom_pipelines"]["aspect-sentiment-analysis"]
    assert pipe["impl"] == "pipeline_visobert_absa.AspectSentimentPipeline"
    assert pipe["pt"] == ["AutoModel"]


def test_weights_are_the_checkpoint_weights(exported, checkpoint):
    staged, original = load_file(exported[1] / "model.safetensors"), load_file(checkpoint / "model.safetensors")
    assert staged.keys() == original.keys()
    assert all((staged[k] == original[k]).all() for k in staged)


def test_card_and_metrics_travel(exported):
    out = exported[1]
    assert json.loads((out / "metrics.json").read_text()) == RUN_METRICS
    readme = (out / "README.md").read_text()
    assert 'model="my-org/tiny-absa"' in readme and "trust_remote_code=True" in readme
    assert "| Aspect detection | micro F1 | 0.6234 |" in readme
    assert "`num_train_epochs` | `3`" in readme  # from trainer_state.json, which itself stays behind


def test_allow_list_rejects_a_stray_file(tmp_path):
    for name in ("config.json", "model.safetensors", "README.md", *CODE_FILES):
        (tmp_path / name).write_text("{}")
    assert "README.md" in check_allowed_files(tmp_path)
    (tmp_path / "training_args.bin").write_bytes(b"x")
    (tmp_path / "data").mkdir()
    with pytest.raises(ExportError, match=r"outside the allow-list: \['data', 'training_args.bin'\]"):
        check_allowed_files(tmp_path)


def test_pickled_weights_are_refused(tmp_path, checkpoint, capsys):
    folder = tmp_path / "old"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        (folder / name).write_bytes((checkpoint / name).read_bytes())
    (folder / "pytorch_model.bin").write_bytes(b"pickle")
    assert cli_main(["export", str(folder), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "only pickled weights (pytorch_model.bin)" in err and "load weights only from safetensors" in err
    assert "use_safetensors=False" not in err  # the model refuses it: the advice is the one-line conversion
    assert "safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors')" in err
    assert not (tmp_path / "out").exists()


def test_checkpoint_errors(tmp_path, checkpoint, capsys):
    assert cli_main(["export", str(tmp_path / "missing"), str(tmp_path / "out")]) == 2
    assert "missing does not exist" in capsys.readouterr().err

    other = tmp_path / "bert"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"model_type": "bert"}))
    assert cli_main(["export", str(other), str(tmp_path / "out")]) == 2
    assert "holds a 'bert' model, not a visobert_absa model" in capsys.readouterr().err

    no_tokenizer = tmp_path / "no_tok"
    no_tokenizer.mkdir()
    for name in ("config.json", "model.safetensors"):
        (no_tokenizer / name).write_bytes((checkpoint / name).read_bytes())
    with pytest.raises(AbsaInputError, match="has no tokenizer files"):
        inspect_checkpoint(no_tokenizer)

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    assert cli_main(["export", str(checkpoint), str(busy)]) == 2
    assert "is not an empty folder; the export never overwrites" in capsys.readouterr().err
    assert (busy / "keep.txt").read_text() == "mine"


def test_export_help_has_examples(capsys):
    assert cli_main(["export", "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "hf-visobert-absa export runs/phone/model exported/phone" in out


def test_a_run_folder_is_answered_with_its_model_folder(tmp_path, checkpoint, capsys):
    run = checkpoint.parent  # train's --output_dir; the model is in run/model
    assert cli_main(["export", str(run), str(tmp_path / "out")]) == 2
    assert (
        f"{run} is a training run folder, not a model folder: pass its model, {run / 'model'}."
        in capsys.readouterr().err
    )


def test_staging_without_verification_uses_the_asked_split(tmp_path, checkpoint):
    result = export_model(checkpoint, tmp_path / "val", dataset_split="validation", verify=False)
    assert result.verification == {}
    values = {r.metric_name: r.metric_value for r in result.card.data.eval_results}
    assert values["Aspect detection micro F1"] == RUN_METRICS["validation"]["detection_micro_f1"]
    with pytest.raises(AbsaInputError, match=r"splits \['validation', 'test'\], not 'dev'"):
        export_model(checkpoint, tmp_path / "dev", dataset_split="dev", verify=False)
    assert not (tmp_path / "dev").exists()
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name]  # no staging folder left behind


def _fake_report(expected):
    module = "transformers_modules.x.abc."
    return {
        "package_visible_on_path": False,
        "package_importable": False,
        "config_class": module + "configuration_visobert_absa.ViSoBertAbsaConfig",
        "pipeline_class": module + "pipeline_visobert_absa.AspectSentimentPipeline",
        "input_ids": copy.deepcopy(expected["input_ids"]),
        "AutoModel": {
            "class": module + "modeling_visobert_absa.ViSoBertAbsaForAspectSentiment",
            "training": False,
            "logits": copy.deepcopy(expected["logits"]["AutoModel"]),
        },
        "AutoModelForSequenceClassification": {
            "class": module + "modeling_visobert_absa.ViSoBertAbsaForSequenceClassification",
            "training": False,
            "logits": copy.deepcopy(expected["logits"]["AutoModelForSequenceClassification"]),
        },
        "pipeline": {"by_task": copy.deepcopy(expected["pipeline"]), "inferred": copy.deepcopy(expected["pipeline"])},
        "text_classification": copy.deepcopy(expected["text_classification"]),
    }


def test_comparison_catches_every_kind_of_difference():
    expected = {
        "input_ids": [[0, 5, 2]],
        "logits": {"AutoModel": [[[0.25, -1.0, 0.5]]], "AutoModelForSequenceClassification": [[-1.5, 0.25]]},
        "pipeline": [[{"aspect": "Battery", "sentiment": "negative", "score": 0.4}]],
        "text_classification": [[{"label": "Battery#negative", "score": 0.4}]],
    }
    assert compare_reports(_fake_report(expected), expected) == (
        [],
        {"AutoModel": 0.0, "AutoModelForSequenceClassification": 0.0},
    )

    report = _fake_report(expected)
    report["AutoModel"]["logits"][0][0][1] += 2**-30  # another thread count moves the last bits: within tolerance
    report["pipeline"]["by_task"][0][0]["score"] += 2**-30
    problems, diffs = compare_reports(report, expected)
    assert diffs["AutoModel"] == 2**-30 and problems == []

    report = _fake_report(expected)
    report["AutoModel"]["logits"][0][0][1] += 0.01  # other weights: refused, with the measured difference
    problems, diffs = compare_reports(report, expected)
    assert problems == [f"AutoModel logits differ (max abs diff {diffs['AutoModel']:.3g} > tolerance 0.0001)"]
    assert diffs["AutoModel"] == pytest.approx(0.01)

    report = _fake_report(expected)
    report["package_importable"] = True
    report["AutoModelForSequenceClassification"]["class"] = (
        "hf_visobert_absa.hub.modeling_visobert_absa.ViSoBertAbsaForAspectSentiment"
    )
    report["input_ids"][0][1] = 6
    report["pipeline"]["inferred"][0][0]["score"] = 0.41
    report["pipeline"]["by_task"][0][0]["sentiment"] = "positive"
    report["text_classification"][0][0]["label"] = "Battery=positive"
    report["AutoModel"]["training"] = True
    problems, _ = compare_reports(report, expected)
    assert problems == [
        "hf_visobert_absa was importable in the clean process",
        "AutoModelForSequenceClassification came from hf_visobert_absa.hub.modeling_visobert_absa.ViSoBertAbsaForAspectSentiment, "
        "not from the folder's code",
        "the tokenizer gives different token ids",
        "pipeline (by task) outputs differ from the in-process pipeline (labels or structure differ; tolerance 0.0001)",
        "pipeline (inferred) outputs differ from the in-process pipeline (max abs score diff 0.01; tolerance 0.0001)",
        "pipeline('text-classification') outputs differ from the in-process text-classification view",
        "the loaded model is in training mode",
    ]


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_exported_pipeline_runs_on_the_gpu_by_default(exported):
    from transformers import pipeline

    out = exported[1]
    gpu = pipeline(model=str(out), trust_remote_code=True)
    cpu = pipeline(model=str(out), trust_remote_code=True, device="cpu")
    assert gpu.device.type == "cuda" and gpu.task == "aspect-sentiment-analysis"
    texts = ["pin trâu camera chụp đẹp", "giao hàng nhanh"]
    got, want = gpu(texts, return_all_aspects=True), cpu(texts, return_all_aspects=True)
    for a, b in zip(got, want, strict=True):
        for x, y in zip(a, b, strict=True):
            assert x["aspect"] == y["aspect"]
            assert max(abs(x["probabilities"][k] - y["probabilities"][k]) for k in x["probabilities"]) < 1e-4


@pytest.mark.shared
@pytest.mark.subprocess
def test_visobert_bpe_tokenizer_exports_and_loads_with_plain_auto_tokenizer(tmp_path, shared):
    """ViSoBERT's real tokenizer (which `AutoTokenizer` cannot load from its original files under transformers 5)
    travels in a form that a plain `AutoTokenizer.from_pretrained(OUT_DIR)` loads in a clean process."""
    from hf_visobert_absa import register_auto_classes
    from hf_visobert_absa.data.tokenization import load_tokenizer
    from tests.helpers import tiny_model, tiny_text_config

    tokenizer = load_tokenizer(shared("visobert"))
    register_auto_classes()
    model = tiny_model(0, text_config=tiny_text_config(vocab_size=15004, max_position_embeddings=514))
    checkpoint = tmp_path / "run"
    model.save_pretrained(checkpoint)
    tokenizer.save_pretrained(checkpoint)
    result = export_model(checkpoint, tmp_path / "out")
    diffs = result.verification["logits_max_abs_diff"]
    assert all(d <= VERIFY_TOLERANCE for d in diffs.values()), f"logits max abs diff {diffs} > {VERIFY_TOLERANCE}"
    assert result.verification["pipeline_outputs_equal"] is True
    assert "Texts longer than 512 tokens are truncated" in str(result.card)


def test_staging_left_by_a_killed_export_is_cleaned_and_a_live_one_kept(tmp_path, checkpoint):
    import os

    from hf_visobert_absa.publishing.export import export_model

    out = tmp_path / "exports" / "tiny"
    out.parent.mkdir()
    dead = out.parent / ".tiny.staging-dead"  # a killed export: its process is gone
    dead.mkdir()
    (dead / "config.json").write_text("{}")
    (out.parent / ".tiny.staging-dead.pid").write_text("999999999")
    orphan = out.parent / ".tiny.staging-orphan"  # no owner file at all
    orphan.mkdir()
    live = out.parent / ".tiny.staging-live"  # an export running now (this process)
    live.mkdir()
    (out.parent / ".tiny.staging-live.pid").write_text(str(os.getpid()))
    export_model(checkpoint, out, verify=False)
    left = sorted(p.name for p in out.parent.iterdir())
    assert left == [".tiny.staging-live", ".tiny.staging-live.pid", "tiny"]
