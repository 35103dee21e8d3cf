"""Metrics: hand-computed cases, agreement with scikit-learn, edge cases, the Trainer adapter, the table and the
`evaluate` module loaded by path offline."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from fractions import Fraction as F

import numpy as np
import pytest

from hf_visobert_absa.data.label_schemes import encode_labels
from hf_visobert_absa.evaluation.metrics import (
    EVALUATE_MODULE_PATH,
    METRIC_KEYS,
    build_compute_metrics,
    compute_absa_metrics,
    confusion_matrices,
)
from hf_visobert_absa.evaluation.table import format_metrics_table

ASPECTS = ["Battery", "Camera"]
# Rows are reviews, columns (Battery, Camera); 0 none, 1 pos, 2 neg, 3 neu.
GOLD = [[1, 0], [2, 3], [0, 1], [3, 2]]
PRED = [[1, 1], [0, 3], [0, 2], [2, 2]]


def approx(value):
    return pytest.approx(float(value), abs=1e-12)


def random_case(seed: int, n: int = 60, a: int = 5):
    """Sparse gold (about 25% mentioned, one aspect never mentioned) and noisy predictions."""
    rng = np.random.default_rng(seed)
    gold = np.where(rng.random((n, a)) < 0.25, rng.integers(1, 4, (n, a)), 0)
    gold[:, -1] = 0  # an aspect nobody mentions: exercises the zero-division convention
    pred = np.where(rng.random((n, a)) < 0.6, gold, rng.integers(0, 4, (n, a)))
    return pred, gold, [f"aspect{i}" for i in range(a)]


class FakeEvalPrediction:
    def __init__(self, predictions, label_ids):
        self.predictions = predictions
        self.label_ids = label_ids


# ------------------------------------------------------------------------------------------ hand-computed
def test_hand_computed_case():
    m = compute_absa_metrics(PRED, GOLD, ASPECTS, "absent_as_class")
    # Detection. Battery: gold mentioned rows 1,2,4; predicted 1,4 -> TP 2, FP 0, FN 1: P 1, R 2/3, F1 4/5.
    # Camera: gold rows 2,3,4; predicted 1,2,3,4 -> TP 3, FP 1, FN 0: P 3/4, R 1, F1 6/7.
    # Micro: TP 5, FP 1, FN 1 -> P = R = F1 = 5/6. Macro: P (1 + 3/4)/2, R (2/3 + 1)/2, F1 (4/5 + 6/7)/2 = 29/35.
    assert m["detection_micro_precision"] == approx(F(5, 6))
    assert m["detection_micro_recall"] == approx(F(5, 6))
    assert m["detection_micro_f1"] == approx(F(5, 6))
    assert m["detection_macro_precision"] == approx(F(7, 8))
    assert m["detection_macro_recall"] == approx(F(5, 6))
    assert m["detection_macro_f1"] == approx(F(29, 35))
    # Sentiment on the 6 gold-mentioned cells (gold -> pred): B1 1->1 ok, B2 2->0 wrong (none), B4 3->2 wrong,
    # C2 3->3 ok, C3 1->2 wrong, C4 2->2 ok -> accuracy 3/6.
    # Macro F1 = mean over pos/neg/neu of 2TP / (gold + predicted), "none" left out of the average:
    # pos: TP 1, gold 2 (B1, C3), pred 1 (B1) -> 2/3; neg: TP 1, gold 2 (B2, C4), pred 3 (B4, C3, C4) -> 2/5;
    # neu: TP 1, gold 2 (B4, C2), pred 1 (C2) -> 2/3; mean = 26/45.
    assert m["sentiment_accuracy"] == approx(F(1, 2))
    assert m["sentiment_macro_f1"] == approx(F(26, 45))
    # Joint pairs: 6 predicted (every non-none prediction), 6 gold, 3 correct (B1, C2, C4) -> P = R = F1 = 1/2.
    # Battery: TP 1, pred 2, gold 3 -> P 1/2, R 1/3, F1 2/5. Camera: TP 2, pred 4, gold 3 -> P 1/2, R 2/3, F1 4/7.
    assert m["joint_micro_precision"] == approx(F(1, 2))
    assert m["joint_micro_recall"] == approx(F(1, 2))
    assert m["joint_micro_f1"] == approx(F(1, 2))
    assert m["joint_macro_precision"] == approx(F(1, 2))
    assert m["joint_macro_recall"] == approx(F(1, 2))
    assert m["joint_macro_f1"] == approx((F(2, 5) + F(4, 7)) / 2)
    # Absent-as-neutral: none -> neutral in both, all 8 cells. Gold 1,3 / 2,3 / 3,1 / 3,2; pred 1,1 / 3,3 / 3,2 / 2,2.
    # Correct: B1, C2, B3, C4 -> 4/8. F1: pos TP 1, gold 2, pred 2 -> 1/2; neg TP 1, gold 2, pred 3 -> 2/5;
    # neu TP 2, gold 4, pred 3 -> 4/7; weighted by gold support (2, 2, 4) / 8 = 143/280.
    assert m["absent_as_neutral_accuracy"] == approx(F(1, 2))
    assert m["absent_as_neutral_weighted_f1"] == approx(F(143, 280))
    assert (m["num_examples"], m["num_gold_mentions"], m["num_predicted_mentions"]) == (4, 6, 6)

    battery, camera = m["per_aspect"]["Battery"], m["per_aspect"]["Camera"]
    assert (battery["support"], battery["predicted"], camera["support"], camera["predicted"]) == (3, 2, 3, 4)
    assert battery["detection_f1"] == approx(F(4, 5)) and camera["detection_f1"] == approx(F(6, 7))
    # Battery sentiment: B1 ok, B2 wrong, B4 wrong -> 1/3; pos F1 1, neg (gold B2, pred B4) 0, neu (gold B4) 0 -> 1/3.
    assert battery["sentiment_accuracy"] == approx(F(1, 3)) and battery["sentiment_macro_f1"] == approx(F(1, 3))
    # Camera sentiment: C2 ok, C3 wrong, C4 ok -> 2/3; pos (gold C3) 0, neg TP 1 gold 1 pred 2 -> 2/3, neu 1 -> 5/9.
    assert camera["sentiment_accuracy"] == approx(F(2, 3)) and camera["sentiment_macro_f1"] == approx(F(5, 9))
    assert battery["joint_f1"] == approx(F(2, 5)) and camera["joint_precision"] == approx(F(1, 2))
    json.dumps(m)  # plain Python numbers only


def test_confusion_matrices_counts_gold_rows_predicted_columns():
    cm = confusion_matrices(PRED, GOLD)
    assert cm.shape == (2, 4, 4) and cm.sum() == 8
    # Battery: (gold, pred) = (1,1), (2,0), (0,0), (3,2); Camera: (0,1), (3,3), (1,2), (2,2).
    expected_battery = np.zeros((4, 4), int)
    for g, p in [(1, 1), (2, 0), (0, 0), (3, 2)]:
        expected_battery[g, p] += 1
    np.testing.assert_array_equal(cm[0], expected_battery)
    assert cm[1, 1, 2] == 1 and cm[1, 0, 1] == 1


# ------------------------------------------------------------------------------------------ scikit-learn
@pytest.mark.parametrize("seed", range(6))
def test_agrees_with_scikit_learn(seed):
    sk = pytest.importorskip("sklearn.metrics")
    pred, gold, aspects = random_case(seed)
    m = compute_absa_metrics(pred, gold, aspects, "absent_as_class")

    # Detection: multilabel indicators [N, A].
    for average in ("micro", "macro"):
        p, r, f, _ = sk.precision_recall_fscore_support(gold != 0, pred != 0, average=average, zero_division=0)
        assert (m[f"detection_{average}_precision"], m[f"detection_{average}_recall"]) == (approx(p), approx(r))
        assert m[f"detection_{average}_f1"] == approx(f)

    # Sentiment on gold-mentioned cells; "none" predictions count but are not averaged as a class.
    mask = gold != 0
    t, p_ = gold[mask], pred[mask]
    labels = sorted((set(t) | set(p_)) - {0})
    assert m["sentiment_accuracy"] == approx(sk.accuracy_score(t, p_))
    assert m["sentiment_macro_f1"] == approx(sk.f1_score(t, p_, labels=labels, average="macro", zero_division=0))

    # Joint pairs: indicators over (aspect, sentiment) [N, A * 3].
    def pairs(x):
        return np.concatenate([(x[:, [a]] == np.array([1, 2, 3])) for a in range(x.shape[1])], axis=1)

    p, r, f, _ = sk.precision_recall_fscore_support(pairs(gold), pairs(pred), average="micro", zero_division=0)
    assert (m["joint_micro_precision"], m["joint_micro_recall"], m["joint_micro_f1"]) == (
        approx(p),
        approx(r),
        approx(f),
    )
    per_aspect_f1 = []
    for a, name in enumerate(aspects):
        row = m["per_aspect"][name]
        cols = slice(3 * a, 3 * a + 3)
        p, r, f, _ = sk.precision_recall_fscore_support(
            pairs(gold)[:, cols], pairs(pred)[:, cols], average="micro", zero_division=0
        )
        assert (row["joint_precision"], row["joint_recall"], row["joint_f1"]) == (approx(p), approx(r), approx(f))
        per_aspect_f1.append(f)
        p, r, f, _ = sk.precision_recall_fscore_support(
            gold[:, a] != 0, pred[:, a] != 0, average="binary", zero_division=0
        )
        assert (row["detection_precision"], row["detection_recall"], row["detection_f1"]) == (
            approx(p),
            approx(r),
            approx(f),
        )
        col_mask = gold[:, a] != 0
        if col_mask.any():
            t, p_ = gold[col_mask, a], pred[col_mask, a]
            labels = sorted((set(t) | set(p_)) - {0})
            assert row["sentiment_accuracy"] == approx(sk.accuracy_score(t, p_))
            expected = sk.f1_score(t, p_, labels=labels, average="macro", zero_division=0)
            assert row["sentiment_macro_f1"] == approx(expected)
        else:
            assert row["support"] == 0 and row["sentiment_accuracy"] == 0.0 and row["sentiment_macro_f1"] == 0.0
    assert m["joint_macro_f1"] == approx(np.mean(per_aspect_f1))

    # Absent-as-neutral: none -> neutral in both arrays, every cell.
    t, p_ = np.where(gold == 0, 3, gold).ravel(), np.where(pred == 0, 3, pred).ravel()
    assert m["absent_as_neutral_accuracy"] == approx(sk.accuracy_score(t, p_))
    assert m["absent_as_neutral_weighted_f1"] == approx(sk.f1_score(t, p_, average="weighted", zero_division=0))


def test_confusion_matrices_agree_with_scikit_learn():
    sk = pytest.importorskip("sklearn.metrics")
    pred, gold, _ = random_case(11)
    cm = confusion_matrices(pred, gold)
    for a in range(gold.shape[1]):
        np.testing.assert_array_equal(cm[a], sk.confusion_matrix(gold[:, a], pred[:, a], labels=[0, 1, 2, 3]))


def test_joint_recall_equals_sentiment_accuracy():
    pred, gold, aspects = random_case(3)
    m = compute_absa_metrics(pred, gold, aspects)
    assert m["joint_micro_recall"] == approx(m["sentiment_accuracy"])
    for row in m["per_aspect"].values():
        assert row["joint_recall"] == approx(row["sentiment_accuracy"])


# ------------------------------------------------------------------------------------------ edge cases
def test_perfect_prediction_scores_one_everywhere():
    _, gold, aspects = random_case(5, a=4)
    gold[0] = [1, 2, 3, 1]  # every aspect mentioned at least once
    m = compute_absa_metrics(gold.copy(), gold, aspects, "absent_as_class")
    for key in METRIC_KEYS:
        assert m[key] == 1.0, key
    for name, row in m["per_aspect"].items():
        for key, value in row.items():
            if key not in ("support", "predicted"):
                assert value == 1.0, (name, key)


def test_all_none_prediction_zero_recall_while_absent_as_neutral_stays_high():
    """A model that says "no aspect is ever mentioned" finds nothing: detection recall and every sentiment and
    joint number are 0. Yet the absent-as-neutral 3-way score counts "not mentioned" as neutral in both arrays, and
    most (review, aspect) cells are not mentioned, so predicting nothing scores as if the model were good —
    the absent-as-neutral accuracy equals the share of absent-or-neutral cells. That is why `absent_as_neutral_*` is always
    labelled and never reported alone."""
    rng = np.random.default_rng(0)
    gold = np.where(rng.random((200, 11)) < 0.12, rng.integers(1, 4, (200, 11)), 0)
    m = compute_absa_metrics(np.zeros_like(gold), gold, [f"a{i}" for i in range(11)], "absent_as_class")
    assert m["detection_micro_recall"] == 0.0 and m["detection_macro_recall"] == 0.0
    assert m["detection_micro_precision"] == 0.0  # no predicted mention: zero division -> 0.0
    assert m["sentiment_accuracy"] == 0.0 and m["joint_micro_f1"] == 0.0 and m["joint_macro_f1"] == 0.0
    share_absent_or_neutral = float(np.isin(gold, [0, 3]).mean())
    assert m["absent_as_neutral_accuracy"] == approx(share_absent_or_neutral)
    assert m["absent_as_neutral_accuracy"] > 0.9 and m["absent_as_neutral_weighted_f1"] > 0.85


@pytest.mark.parametrize("scheme", ["absent_as_neutral", "mentioned_only"])
def test_schemes_without_none_class_report_detection_as_not_applicable(scheme):
    pred, gold, aspects = random_case(2)
    pred = np.where(pred == 0, 3, pred)  # such models predict every aspect as mentioned
    m = compute_absa_metrics(pred, gold, aspects, scheme)
    assert all(m[k] is None for k in METRIC_KEYS if k.startswith("detection_"))
    assert all(row["detection_f1"] is None for row in m["per_aspect"].values())
    # Joint precision counts all N x A predicted pairs: honestly low on sparse gold.
    correct = ((pred == gold) & (gold != 0)).sum()
    assert m["joint_micro_precision"] == approx(F(int(correct), gold.size))
    assert m["sentiment_accuracy"] == compute_absa_metrics(pred, gold, aspects)["sentiment_accuracy"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"predictions": [[1, 0]], "references": [[1, 0], [0, 0]]},
            "has shape (1, 2) but `references` has shape (2, 2)",
        ),
        ({"references": [[1, 0], [4, 0]]}, "`references` holds 4 at row 2 (1-based), aspect 'Battery'"),
        ({"references": [[1, -100], [1, 0]]}, "decode_labels"),
        ({"aspects": ["Battery"]}, "2 aspect columns but `aspects` names 1: ['Battery']"),
        ({"label_scheme": "absent"}, "`label_scheme` got 'absent'; allowed: 'absent_as_class', 'absent_as_neutral'"),
        ({"predictions": np.zeros((2, 2, 4))}, "looks like logits [N, A, C]"),
        ({"predictions": [[1, 0], [1]]}, "rectangular [N, A]"),
        ({"predictions": [[1.5, 0], [1, 0]]}, "`predictions` holds 1.5 at row 1 (1-based)"),
        ({"predictions": np.zeros((0, 2)), "references": np.zeros((0, 2))}, "holds no reviews"),
        ({"predictions": [["pos", "none"], ["neg", "none"]]}, "must hold integers"),
    ],
)
def test_invalid_inputs_raise_clear_errors(kwargs, message):
    args = {"predictions": [[1, 0], [2, 0]], "references": [[1, 0], [2, 3]], "aspects": ASPECTS}
    args["label_scheme"] = "absent_as_class"
    args.update(kwargs)
    with pytest.raises(ValueError) as info:
        compute_absa_metrics(**args)
    assert message in str(info.value)


# ------------------------------------------------------------------------------------------ Trainer adapter
class _Config:
    def __init__(self, label_scheme, aspects=("Battery", "Camera", "Price")):
        self.aspects, self.label_scheme = list(aspects), label_scheme


def _logits_for(canonical_pred, scheme, num_classes, rng):
    """Random logits whose argmax decodes to `canonical_pred` under `scheme`."""
    target = encode_labels(canonical_pred, scheme) if scheme == "absent_as_class" else canonical_pred - 1
    logits = rng.normal(size=(*canonical_pred.shape, num_classes)).astype(np.float32)
    np.put_along_axis(logits, target[..., None], 10.0, axis=-1)
    return logits


def test_compute_metrics_adapter_absent_as_class(caplog):
    rng = np.random.default_rng(0)
    pred, gold, _ = random_case(4, n=30, a=3)
    logits = _logits_for(pred, "absent_as_class", 4, rng)
    fn = build_compute_metrics(_Config("absent_as_class"))
    out = fn(FakeEvalPrediction(logits, encode_labels(gold, "absent_as_class")))
    expected = compute_absa_metrics(pred, gold, ["Battery", "Camera", "Price"])
    assert set(out) == set(METRIC_KEYS) | {"num_examples", "num_gold_mentions", "num_predicted_mentions"}
    assert all(type(v) is float for v in out.values())
    assert all(out[k] == approx(expected[k]) for k in METRIC_KEYS)

    with caplog.at_level(logging.WARNING, logger="hf_visobert_absa.evaluation.metrics"):
        for _ in range(2):  # a tuple: first element used, warned once
            again = fn(FakeEvalPrediction((logits, np.zeros((30, 8))), encode_labels(gold, "absent_as_class")))
    assert again == out
    assert sum("tuple of 2 model outputs" in r.getMessage() for r in caplog.records) == 1

    flat = build_compute_metrics(_Config("absent_as_class"), per_aspect=True)(FakeEvalPrediction(logits, gold))
    assert flat["per_aspect/Camera/joint_f1"] == approx(expected["per_aspect"]["Camera"]["joint_f1"])
    assert flat["per_aspect/Price/support"] == float(expected["per_aspect"]["Price"]["support"])


def test_compute_metrics_adapter_mentioned_only_and_absent_as_neutral():
    rng = np.random.default_rng(1)
    pred, gold, _ = random_case(6, n=30, a=3)
    pred = np.where(pred == 0, 1, pred)  # 3-class models always predict a sentiment
    aspects = ["Battery", "Camera", "Price"]
    honest = {s: compute_absa_metrics(pred, gold, aspects, s) for s in ("mentioned_only", "absent_as_neutral")}

    # mentioned_only labels keep absence as -100: everything but detection is exact.
    out = build_compute_metrics(_Config("mentioned_only"))(
        FakeEvalPrediction(_logits_for(pred, "mentioned_only", 3, rng), encode_labels(gold, "mentioned_only"))
    )
    assert not any(k.startswith("detection_") for k in out)
    for key in ("sentiment_accuracy", "sentiment_macro_f1", "joint_micro_precision", "absent_as_neutral_weighted_f1"):
        assert out[key] == approx(honest["mentioned_only"][key])

    # absent_as_neutral labels turn absent into neutral: only the absent-as-neutral numbers are exact, the rest is left out.
    out = build_compute_metrics(_Config("absent_as_neutral"))(
        FakeEvalPrediction(_logits_for(pred, "absent_as_neutral", 3, rng), encode_labels(gold, "absent_as_neutral"))
    )
    assert set(out) == {"absent_as_neutral_accuracy", "absent_as_neutral_weighted_f1", "num_examples"}
    assert out["absent_as_neutral_accuracy"] == approx(honest["absent_as_neutral"]["absent_as_neutral_accuracy"])
    assert out["absent_as_neutral_weighted_f1"] == approx(honest["absent_as_neutral"]["absent_as_neutral_weighted_f1"])


def test_compute_metrics_adapter_threshold_on_p_none():
    """Under absent_as_class an aspect is mentioned when P(none) < threshold when one is given (the pipeline's rule);
    by default when a sentiment is more probable than none."""
    # Softmax of [log 0.4, log 0.5, log 0.05, log 0.05] = [0.4, 0.5, 0.05, 0.05]: P(none) = 0.4.
    logits = np.log(np.array([[[0.4, 0.5, 0.05, 0.05]]] * 2, dtype=np.float64)).repeat(3, axis=1)
    labels = np.ones((2, 3), dtype=np.int64)  # gold: positive everywhere
    by_default = build_compute_metrics(_Config("absent_as_class"))(FakeEvalPrediction(logits, labels))
    assert by_default["detection_micro_recall"] == 1.0  # 0.5 (positive) > 0.4 (none): argmax says mentioned
    split = np.log(np.array([[[0.4, 0.2, 0.2, 0.2]]] * 2)).repeat(3, axis=1)  # P(none) 0.4, sentiments split
    assert (
        build_compute_metrics(_Config("absent_as_class"))(FakeEvalPrediction(split, labels))["detection_micro_recall"]
        == 0
    )
    at_half = build_compute_metrics(_Config("absent_as_class"), threshold=0.5)(FakeEvalPrediction(logits, labels))
    assert at_half["detection_micro_recall"] == 1.0 and at_half["joint_micro_f1"] == 1.0  # 0.4 < 0.5: mentioned
    strict = build_compute_metrics(_Config("absent_as_class"), threshold=0.3)(FakeEvalPrediction(logits, labels))
    assert strict["detection_micro_recall"] == 0.0  # 0.4 >= 0.3: not mentioned
    per_aspect = build_compute_metrics(_Config("absent_as_class"), threshold=[0.5, 0.3, 0.3])
    assert per_aspect(FakeEvalPrediction(logits, labels))["detection_micro_recall"] == approx(F(1, 3))
    with pytest.raises(
        ValueError, match=r"`threshold` got \[0.5, 0.5\]; allowed: None \(argmax\), a number in \(0, 1\], or 3"
    ):
        build_compute_metrics(_Config("absent_as_class"), threshold=[0.5, 0.5])


@pytest.mark.parametrize(
    ("scheme", "logits_shape", "labels", "message"),
    [
        ("absent_as_class", (2, 3, 3), [[0, 0, 0], [1, 2, 3]], "expected [N, 3, 4] for 3 aspects"),
        ("absent_as_class", (2, 3, 4), [[0, 0, 0]], "`label_ids` have shape (1, 3); expected (2, 3)"),
        (
            "absent_as_neutral",
            (2, 3, 3),
            [[0, 1, 2], [3, 0, 0]],
            "hold 3 at row 2 (1-based), aspect 'Battery'; allowed under",
        ),
        ("absent_as_class", (2, 3, 4), [[0, -100, 0], [1, 2, 3]], "hold -100 at row 1 (1-based), aspect 'Camera'"),
    ],
)
def test_compute_metrics_adapter_errors(scheme, logits_shape, labels, message):
    fn = build_compute_metrics(_Config(scheme))
    with pytest.raises(ValueError) as info:
        fn(FakeEvalPrediction(np.zeros(logits_shape, np.float32), np.asarray(labels)))
    assert message in str(info.value)


def test_compute_metrics_in_a_real_trainer_evaluation(tmp_path, tokenizer):
    """The adapter runs inside `FocalContrastiveTrainer.evaluate` and its floats reach the logged metrics."""
    from transformers import DataCollatorWithPadding, TrainingArguments

    from hf_visobert_absa import FocalContrastiveTrainer
    from tests.helpers import tiny_model

    model = tiny_model(aspects=["Battery", "Camera"])
    texts = ["pin trâu", "camera xấu", "giá rẻ", "shop nhiệt tình", "pin yếu camera đẹp", "máy lag"]
    gold = np.array([[1, 0], [0, 2], [0, 0], [0, 0], [2, 1], [3, 0]])
    rows = [dict(tokenizer(t), labels=g.tolist()) for t, g in zip(texts, gold, strict=True)]
    args = TrainingArguments(output_dir=str(tmp_path), per_device_eval_batch_size=4, report_to="none", use_cpu=True)
    trainer = FocalContrastiveTrainer(
        model=model,
        args=args,
        eval_dataset=rows,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=build_compute_metrics(model.config),
    )
    metrics = trainer.evaluate()
    assert "eval_joint_micro_f1" in metrics and "eval_absent_as_neutral_accuracy" in metrics
    assert metrics["eval_num_examples"] == 6.0 and metrics["eval_num_gold_mentions"] == float((gold != 0).sum())
    print(format_metrics_table(metrics))  # the Trainer's flat dict renders with its prefix


# ------------------------------------------------------------------------------------------ table
def test_format_metrics_table_order_values_and_na():
    m = compute_absa_metrics(PRED, GOLD, ASPECTS)
    table = format_metrics_table(m)
    lines = table.splitlines()
    order = [
        next(i for i, line in enumerate(lines) if line.startswith(s))
        for s in (
            "Aspect detection, micro",
            "Sentiment on gold-mentioned",
            "Joint (aspect, sentiment), micro",
            "absent-as-neutral",
        )
    ]
    assert order == sorted(order)
    assert "absent-as-neutral (for comparison only)" in table
    assert f"{m['detection_macro_f1']:.4f}" in lines[order[0] + 1]
    assert f"{m['sentiment_macro_f1']:.4f}" in lines[order[1]]
    battery = next(line for line in lines if line.startswith("Battery"))
    assert f"{m['per_aspect']['Battery']['joint_f1']:.4f}" in battery

    seed = compute_absa_metrics(np.where(np.asarray(PRED) == 0, 3, PRED), GOLD, ASPECTS, "absent_as_neutral")
    assert "Aspect detection, micro" in format_metrics_table(seed) and "n/a (this label scheme" in format_metrics_table(
        seed
    )
    trainer_seed = {
        "eval_absent_as_neutral_accuracy": 0.9,
        "eval_absent_as_neutral_weighted_f1": 0.8,
        "eval_num_examples": 4.0,
    }
    table = format_metrics_table(trainer_seed)
    assert "hf-visobert-absa evaluate" in table and "accuracy 0.9000, weighted F1 0.8000" in table

    with pytest.raises(ValueError, match="none of the ABSA metric keys"):
        format_metrics_table({"eval_loss": 1.0})


# ------------------------------------------------------------------------------------------ evaluate module
def test_evaluate_metric_class_matches_function(tmp_path):
    from hf_visobert_absa.evaluation.absa_metric.absa_metric import AbsaMetric

    metric = AbsaMetric(cache_dir=str(tmp_path), keep_in_memory=True)
    metric.add_batch(predictions=PRED[:2], references=GOLD[:2])
    metric.add_batch(predictions=PRED[2:], references=GOLD[2:])
    assert metric.compute(aspects=ASPECTS) == compute_absa_metrics(PRED, GOLD, ASPECTS)


@pytest.mark.subprocess
def test_evaluate_load_by_path_offline_in_a_clean_process(tmp_path):
    """`evaluate.load(<folder>)` and `evaluate.load(<file>)` work with HF_HUB_OFFLINE=1 from an unrelated cwd."""
    script = (
        "import json, evaluate\n"
        f"folder = {EVALUATE_MODULE_PATH!r}\n"
        "out = []\n"
        "for path in (folder, folder + '/absa_metric.py'):\n"
        "    metric = evaluate.load(path)\n"
        f"    out.append(metric.compute(predictions={PRED}, references={GOLD}, aspects={ASPECTS}, label_scheme='absent_as_neutral'))\n"
        "print(json.dumps(out))\n"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    by_folder, by_file = json.loads(done.stdout.strip().splitlines()[-1])
    expected = json.loads(json.dumps(compute_absa_metrics(PRED, GOLD, ASPECTS, "absent_as_neutral")))
    assert by_folder == expected and by_file == expected
