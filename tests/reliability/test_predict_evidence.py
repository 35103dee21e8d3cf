"""`predict --evidence`: each predicted aspect's words with offsets into the text, in CSV and JSONL; options that
cannot work are refused before anything is read."""

from __future__ import annotations

import csv
import json

import pytest

from tests.helpers import run_cli

TEXTS = ["pin  trâu, camera đẹp 😍", "camera xấu... giá đắt", ""]


def _input(tmp_path, suffix):
    source = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        source.write_text("text\n" + "\n".join(f'"{t}"' for t in TEXTS) + "\n", encoding="utf-8")
    else:
        source.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in TEXTS), encoding="utf-8")
    return source


def _read(out, suffix):
    if suffix == ".csv":
        with open(out, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        return [json.loads(r["evidence"]) if r.get("evidence") else {} for r in rows], [
            {k[5:] for k, v in r.items() if k.startswith("pred_") and v} for r in rows
        ]
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return [r.get("evidence", {}) for r in rows], [set(r["predictions"]) for r in rows]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_predict_writes_the_evidence_of_each_predicted_aspect(capsys, model_dir, tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    argv = ["predict", "--model", model_dir, "--input", _input(tmp_path, suffix), "--output", out]
    assert run_cli(capsys, *argv, "--evidence", "--evidence_top_k", "2")[0] == 0
    evidence, predicted = _read(out, suffix)
    assert evidence[2] == {}  # the empty review is skipped
    assert any(predicted[:2])
    for text, found, aspects in zip(TEXTS[:2], evidence[:2], predicted[:2], strict=True):
        assert set(found) == aspects
        for words in found.values():
            assert 1 <= len(words) <= 2 and all(text[w["start"] : w["end"]] == w["word"] for w in words)
    plain = tmp_path / f"plain{suffix}"
    assert (
        run_cli(capsys, "predict", "--model", model_dir, "--input", _input(tmp_path, suffix), "--output", plain)[0] == 0
    )
    assert _read(plain, suffix)[1] == predicted  # evidence changes no prediction


def test_predict_with_integrated_gradients_scores_any_pooling(capsys, model_dir, tmp_path):
    pytest.importorskip("captum")
    out = tmp_path / "out.jsonl"
    argv = ["predict", "--model", model_dir, "--input", _input(tmp_path, ".jsonl"), "--output", out, "--evidence"]
    assert run_cli(capsys, *argv, "--evidence_method", "integrated_gradients")[0] == 0
    evidence, predicted = _read(out, ".jsonl")
    assert [set(found) for found in evidence] == predicted


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--evidence", "--int8"], "`--evidence` runs the PyTorch model in one process: drop `--int8`"),
        (["--evidence", "--evidence_top_k", "0"], "--evidence_top_k"),
    ],
)
def test_predict_refuses_evidence_options_that_cannot_work(capsys, model_dir, tmp_path, extra, needle):
    out = tmp_path / "out.jsonl"
    code, message = run_cli(
        capsys, "predict", "--model", model_dir, "--input", _input(tmp_path, ".jsonl"), "--output", out, *extra
    )
    assert code == 2 and needle in message and not out.exists()


def test_evaluate_writes_a_gallery_of_wrong_and_correct_reviews_with_evidence(capsys, model_dir, data_file, tmp_path):
    gallery = tmp_path / "gallery.html"
    argv = ["evaluate", "--model", model_dir, "--file", data_file, "--evidence_gallery", gallery, "--disable_tqdm"]
    assert run_cli(capsys, *argv)[0] == 0
    page = gallery.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "trâu</mark>" in page and "gold: Battery: positive" in page


def test_evaluate_refuses_a_gallery_over_its_own_input(capsys, model_dir, data_file):
    code, message = run_cli(
        capsys, "evaluate", "--model", model_dir, "--file", data_file, "--evidence_gallery", data_file
    )
    assert code == 2 and "--evidence_gallery" in message


def test_predict_refuses_attention_evidence_for_a_pooling_without_attention(capsys, tmp_path):
    from tests.helpers import tiny_model, tiny_tokenizer

    folder = tmp_path / "mean_model"
    tiny_model(0, pooling="mean").save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    out = tmp_path / "out.jsonl"
    argv = ["predict", "--model", folder, "--input", _input(tmp_path, ".jsonl"), "--output", out, "--evidence"]
    code, message = run_cli(capsys, *argv)
    assert code == 2 and "`--evidence_method attention` needs pooling='aspect_query'" in message and "'mean'" in message
    assert not out.exists()
