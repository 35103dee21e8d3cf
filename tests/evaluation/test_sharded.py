"""Scoring and `predict` across 2 processes (`torchrun`, gloo): the same bytes as one process."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from hf_visobert_absa.evaluation.inference import score_texts
from hf_visobert_absa.evaluation.sharded import Shard, score_texts_sharded
from tests import helpers
from tests.helpers import save_tiny_checkpoint, tiny_model, tiny_tokenizer
from tests.scripts.sharded_scores import BATCH_SIZE, texts

pytestmark = [pytest.mark.distributed, pytest.mark.subprocess]


def _env() -> dict[str, str]:
    return helpers.script_env(OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")


def _torchrun(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=_env())
    assert result.returncode == 0, f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-4000:]}"
    return result


def test_one_shard_scores_every_batch_and_two_shards_split_them():
    model, tokenizer = tiny_model(0).eval(), tiny_tokenizer()
    full, _ = score_texts(model, tokenizer, texts(), BATCH_SIZE, 64, "cpu")
    assert np.array_equal(score_texts_sharded(model, tokenizer, texts(), Shard(), BATCH_SIZE, 64), full)
    halves = [score_texts(model, tokenizer, texts(), BATCH_SIZE, 64, "cpu", shard=(r, 2))[0] for r in (0, 1)]
    scored = [~np.isnan(h[:, 0, 0]) for h in halves]
    assert not (scored[0] & scored[1]).any() and (scored[0] | scored[1]).all()  # each review once
    assert abs(int(scored[0].sum()) - int(scored[1].sum())) <= BATCH_SIZE
    assert np.array_equal(np.where(scored[0][:, None, None], halves[0], halves[1]), full)


def test_two_processes_give_the_probabilities_of_one(tmp_path):
    _torchrun("-m", "tests.scripts.sharded_scores", str(tmp_path))
    ranks = json.loads((tmp_path / "ranks.json").read_text())
    assert ranks["world_size"] == 2 and all(count > 0 for count in ranks["scored"])
    assert sum(ranks["scored"]) == len(texts())
    full, _ = score_texts(tiny_model(0).eval(), tiny_tokenizer(), texts(), BATCH_SIZE, 64, "cpu")
    assert np.array_equal(np.load(tmp_path / "sharded.npy"), full)  # bit for bit


def test_predict_under_torchrun_writes_the_file_of_one_process(tmp_path):
    model = save_tiny_checkpoint(tmp_path / "model", seed=3, stray=False, pooling="mean")  # distinct labels
    source = tmp_path / "reviews.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i, text in enumerate(texts(41)):
            writer.writerow([i, "" if i == 9 else text])
    common = ["predict", "--model", str(model), "--input", str(source), "--batch_size", "3", "--chunk_size", "17",
              "--threshold", "0.25"]  # fmt: skip
    one = subprocess.run([sys.executable, "-m", "hf_visobert_absa.cli.main", *common, "--output", str(tmp_path / "one.csv")],
                         capture_output=True, text=True, timeout=300, env=_env())  # fmt: skip
    assert one.returncode == 0, one.stderr[-3000:]
    two = _torchrun("-m", "hf_visobert_absa.cli.main", *common, "--output", str(tmp_path / "two.csv"))
    written = (tmp_path / "two.csv").read_bytes()
    assert written == (tmp_path / "one.csv").read_bytes()
    rows = list(csv.DictReader(written.decode("utf-8").splitlines()))
    assert [row["id"] for row in rows] == [str(i) for i in range(41)] and rows[9]["status"] == "skipped: empty text"
    assert len({tuple(row[k] for k in row if k.startswith("pred_")) for row in rows}) > 3  # not all alike
    assert two.stderr.count("41 rows written") == 1  # only rank 0 writes and reports
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "one.csv", "reviews.csv", "two.csv"]  # no temp files


def test_stdin_cannot_be_shared_by_processes(monkeypatch, capsys):
    from hf_visobert_absa.cli.main import main

    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["predict", "--model", "unused"]) == 2
    assert "cannot be shared by several processes" in capsys.readouterr().err
