"""int8 through ONNX Runtime: a quantised graph, outputs close to fp32, the pipeline and `predict --int8`."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest

from hf_visobert_absa.errors import AbsaInputError
from hf_visobert_absa.evaluation.inference import score_texts
from tests.helpers import save_tiny_checkpoint, tiny_model, tiny_tokenizer
from tests.hub.test_pipeline import MENTIONED, TEXTS, _biased_model, _close

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from hf_visobert_absa.evaluation.int8 import OnnxInt8Model, int8_pipeline, quantize_int8  # noqa: E402


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    model = tiny_model(3, pooling="mean").eval()
    return model, quantize_int8(model, save_dir=tmp_path_factory.mktemp("int8"), threads=1)


def test_the_graph_is_quantised_and_close_to_fp32(quantized):
    model, int8 = quantized
    assert isinstance(int8, OnnxInt8Model) and int8.path.name == "model_int8.onnx"
    ops = {node.op_type for node in onnx.load(str(int8.path)).graph.node}
    assert ops & {"MatMulInteger", "DynamicQuantizeLinear", "DynamicQuantizeMatMul"}, ops  # int8 matmuls
    tokenizer = tiny_tokenizer()
    p32, e32 = score_texts(model, tokenizer, TEXTS, 3, 64, "cpu")
    p8, e8 = score_texts(int8, tokenizer, TEXTS, 3, 64, "cpu")
    assert p8.shape == p32.shape and e8.shape == e32.shape
    assert np.abs(p8 - p32).max() < 0.01 and np.abs(e8 - e32).max() < 0.05
    assert not np.array_equal(p8, p32)  # it is not the fp32 model


def test_the_int8_pipeline_keeps_the_api_and_the_decisions():
    model, tokenizer = _biased_model().eval(), tiny_tokenizer()
    pipe = int8_pipeline(model, tokenizer, batch_size=4)
    assert isinstance(pipe.model, OnnxInt8Model)
    out = pipe(TEXTS, return_all_aspects=True)
    assert [[e["aspect"] for e in entries if e["mentioned"]] for entries in out] == [list(MENTIONED)] * len(TEXTS)
    # Activations are quantised per batch, so a review's scores move slightly with its batch companions.
    assert _close(list(pipe(t for t in TEXTS[:2])), [pipe(TEXTS[0]), pipe(TEXTS[1])], tol=1e-2)


def test_predict_int8_labels_every_row(tmp_path):
    from hf_visobert_absa.cli.main import main

    model = save_tiny_checkpoint(tmp_path / "model", seed=3, stray=False, pooling="mean")
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("text\n" + "\n".join(TEXTS) + "\n", encoding="utf-8")
    assert main(["predict", "--model", str(model), "--input", str(source), "--output", str(out), "--int8"]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["text"] for r in rows] == TEXTS and all(r["status"] == "ok" for r in rows)


def test_int8_refuses_cuda(tmp_path, capsys):
    from hf_visobert_absa.cli.main import main

    assert main(["predict", "--model", str(tmp_path), "--int8", "--device", "cuda"]) == 2
    assert "`--int8` runs on the CPU" in capsys.readouterr().err


def test_a_missing_onnxruntime_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(
        AbsaInputError, match=r'int8 inference needs onnxruntime.*pip install "hf-visobert-absa\[int8\]"'
    ):
        quantize_int8(tiny_model(0))
