"""`python -m benchmarks.bench`: the quick run writes complete JSON + PNG files, the targets are read from JSON,
the comparison baselines compute what they claim (same objective, same values), and bad input exits 2.

No test here asserts a timing: speed targets are checked by `benchmarks.bench.targets` from the JSON files.
"""

from __future__ import annotations

import json
import statistics
import types
from pathlib import Path

import pytest
import torch
from PIL import Image

from benchmarks.bench.cli import run as bench_run
from benchmarks.bench.inference import read_reviews, run_inference_benchmark
from benchmarks.bench.losses import (
    check_agreement,
    find_naive_losses,
    load_naive_losses,
    loss_inputs,
    run_losses_benchmark,
)
from benchmarks.bench.targets import check_targets, format_targets
from hf_visobert_absa.explain import models as bench_models
from hf_visobert_absa.explain.common import BenchSettings, PeakRSS, measure_interleaved, summarize
from hf_visobert_absa.hub.configuration_visobert_absa import ViSoBertAbsaConfig
from hf_visobert_absa.training.trainer import FocalContrastiveTrainer
from tests import helpers

REPO = helpers.ROOT
TOP_LEVEL = {"schema_version", "benchmark", "title", "command", "created_utc", "settings", "inputs", "machine",
             "versions", "results", "derived", "memory", "notes"}  # fmt: skip


def assert_png(path: Path) -> None:
    assert path.is_file() and 0 < path.stat().st_size < 200_000, path
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.verify()


def assert_timings(entry: dict, reps: int) -> None:
    assert len(entry["seconds"]) == reps >= 5
    assert all(value > 0 for value in entry["seconds"])
    assert entry["median_s"] == pytest.approx(statistics.median(entry["seconds"]))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    naive = str(REPO / "benchmarks" / "losses_vs_loops.py")
    code = bench_run(["--quick", "--out", str(out), "--naive_losses", naive])  # through the CLI dispatcher
    assert code == 0
    return out


def test_quick_run_writes_every_field(quick_run):
    for name in ("step_overhead", "one_vs_two_pass", "losses_vs_loops"):
        document = json.loads((quick_run / f"{name}.json").read_text())
        assert TOP_LEVEL <= set(document), name
        assert document["benchmark"] == name and document["settings"]["quick"] is True
        machine = document["machine"]
        assert machine["cpu_model"] and machine["logical_cores"] >= 1 and machine["torch_threads"] == 1
        assert machine["load_average_1_5_15"] is None or len(machine["load_average_1_5_15"]) == 3
        assert document["versions"]["torch"] == torch.__version__.split("+")[0] or document["versions"]["torch"]
        assert document["versions"]["transformers"]
        assert_png(quick_run / f"{name}.png")

    step = json.loads((quick_run / "step_overhead.json").read_text())
    for variant in ("ours_one_pass", "bare_encoder_linear_ce"):
        assert_timings(step["results"][variant], reps=5)
        assert step["memory"][variant]["peak_rss_mib"] >= step["memory"][variant]["rss_before_mib"] > 0
    ratio = step["results"]["ours_one_pass"]["median_s"] / step["results"]["bare_encoder_linear_ce"]["median_s"]
    assert step["derived"]["ratio_ours_over_bare"] == pytest.approx(ratio)
    isolated = step["results"]["isolated_heads_and_losses"]
    for variant in ("ours_heads_and_losses", "bare_head_and_cross_entropy"):
        assert_timings(isolated[variant], reps=5)
    delta = isolated["ours_heads_and_losses"]["median_s"] - isolated["bare_head_and_cross_entropy"]["median_s"]
    assert step["derived"]["isolated_heads_and_losses_delta_ms"] == pytest.approx(delta * 1e3)
    assert step["inputs"]["batch_size"] == 16 and step["inputs"]["seq_len"] == 64
    assert step["inputs"]["text_config"]["hidden_size"] == 32
    assert len(step["inputs"]["tokens_per_batch"]) == step["settings"]["input_sets"] >= 2

    passes = json.loads((quick_run / "one_vs_two_pass.json").read_text())
    assert_timings(passes["results"]["sequential_two_pass"], reps=5)
    assert passes["derived"]["ratio_two_pass_over_ours"] == pytest.approx(
        passes["results"]["sequential_two_pass"]["median_s"] / passes["results"]["ours_one_pass"]["median_s"]
    )

    losses = json.loads((quick_run / "losses_vs_loops.json").read_text())
    assert set(losses["results"]) == {"16", "32"}
    for batch, entry in losses["results"].items():
        for variant in ("ours_vectorised", "naive_loops"):
            assert_timings(entry[variant], reps=5)
            assert entry[variant]["calls_per_rep"] >= 1
        assert losses["derived"]["max_abs_difference"][batch] < 1e-4
        assert losses["memory"][batch]["naive_loops"]["peak_rss_mib"] > 0

    summary = json.loads((quick_run / "summary.json").read_text())
    assert {t["id"] for t in summary["targets"]} == {
        "step_overhead", "two_pass_ratio", "loss_speedup_b32", "loss_share", "inference_vs_fixed", "pipeline_overhead"
    }  # fmt: skip
    # A quick (tiny-encoder) run reports the values but never claims a target.
    assert all(t["status"] in ("n/a", "skipped") for t in summary["targets"])


def test_quick_inference_fields(quick_run, shared):
    shared("data", "phone_reviews", "test.csv")
    shared("visobert", "tokenizer.json")
    document = json.loads((quick_run / "inference.json").read_text())
    assert TOP_LEVEL <= set(document) and "skipped" not in document
    assert document["inputs"]["reviews"] == 64 and sum(document["inputs"]["reviews_per_set"]) == 64
    for name, entry in document["results"].items():
        assert_timings(entry, reps=5)
        assert len(entry["reviews_per_second"]) == 5
        assert document["memory"][name]["peak_rss_mib_max"] > 0
    padded = document["inputs"]["padded_tokens_per_set"]
    assert all(d < f for d, f in zip(padded["sorted_dynamic"], padded["fixed_256"], strict=True))
    assert document["derived"]["pipeline_overhead_over_raw"] == pytest.approx(
        document["results"]["raw_sorted_dynamic"]["median_reviews_per_second"]
        / document["results"]["pipeline_sorted_dynamic"]["median_reviews_per_second"]
        - 1
    )
    assert_png(quick_run / "inference.png")


def _document(name: str, derived: dict, quick: bool = False, **extra) -> dict:
    return {"benchmark": name, "settings": {"quick": quick, "device": "cpu"}, "derived": derived, **extra}


def test_targets_are_read_from_the_json_files(tmp_path):
    def write(name, document):
        (tmp_path / f"{name}.json").write_text(json.dumps(document))

    step_results = {"ours_one_pass": {"median_s": 2.0}, "bare_encoder_linear_ce": {"median_s": 1.96}}
    write("step_overhead", _document("step_overhead", {"ratio_ours_over_bare": 1.0204, "overhead_ms": 40.0,
          "ratio_per_round_median": 1.02}, results=step_results, inputs={"batch_size": 16}))  # fmt: skip
    write("one_vs_two_pass", _document("one_vs_two_pass", {"ratio_two_pass_over_ours": 1.2, "saved_ms": 400.0}))
    write("losses_vs_loops", _document("losses_vs_loops", {"speedup_naive_over_ours": {"16": 20.0, "32": 4.0}},
          results={"16": {"ours_vectorised": {"median_s": 0.03}}}))  # fmt: skip
    report = {entry["id"]: entry for entry in check_targets(tmp_path)}
    assert report["step_overhead"]["status"] == "pass" and report["step_overhead"]["measured"] == pytest.approx(1.0204)
    assert report["two_pass_ratio"]["status"] == "miss"
    assert report["loss_speedup_b32"]["status"] == "miss" and report["loss_speedup_b32"]["measured"] == 4.0
    assert report["loss_share"]["measured"] == pytest.approx(0.015) and report["loss_share"]["status"] == "miss"
    assert report["inference_vs_fixed"]["status"] == "missing"
    write("inference", {"benchmark": "inference", "settings": {"quick": False}, "skipped": "needs real reviews"})
    report = {entry["id"]: entry for entry in check_targets(tmp_path)}
    assert (
        report["pipeline_overhead"]["status"] == "skipped" and "real reviews" in report["pipeline_overhead"]["detail"]
    )
    write("step_overhead", _document("step_overhead", {"ratio_ours_over_bare": 1.05, "overhead_ms": 100.0,
          "ratio_per_round_median": 1.05}, results=step_results, inputs={"batch_size": 16}))  # fmt: skip
    report = {entry["id"]: entry for entry in check_targets(tmp_path)}
    assert report["step_overhead"]["status"] == "miss"
    assert "1.050" in format_targets(list(report.values()))


def test_naive_losses_agree_with_the_library():
    naive = load_naive_losses(find_naive_losses(REPO / "benchmarks" / "losses_vs_loops.py"))
    config = ViSoBertAbsaConfig(text_config=dict(bench_models.TINY_ENCODER_CONFIG), contrastive_mode="mulsupcon")
    sets = loss_inputs(3, 8, config, seed=1, device=torch.device("cpu"))
    assert check_agreement(naive, sets, config) < 1e-5
    nothing = (sets[0][0], sets[0][1], torch.zeros_like(sets[0][2]))  # no aspect mentioned: both losses empty
    assert check_agreement(naive, [nothing], config) < 1e-6
    broken = types.SimpleNamespace(
        naive_absa_loss=lambda lg, em, lb, cfg: tuple(x * 1.01 for x in naive.naive_absa_loss(lg, em, lb, cfg))
    )
    with pytest.raises(RuntimeError, match="disagree"):
        check_agreement(broken, sets, config)


def test_losses_benchmark_skips_without_the_naive_reference(tmp_path):
    document = run_losses_benchmark(BenchSettings(quick=True, reps=5), tmp_path, None)
    assert "benchmarks/losses_vs_loops.py" in document["skipped"]
    assert json.loads((tmp_path / "losses_vs_loops.json").read_text())["skipped"] == document["skipped"]


@pytest.mark.parametrize("config_kwargs", [{}, {"pooling": "aspect_query", "contrastive_mode": "aspect_sentiment"}])
def test_two_pass_step_has_the_same_gradient_as_one_pass(config_kwargs):
    """The sequential baseline optimises the same objective: with dropout off, equal gradients."""
    text = dict(bench_models.TINY_ENCODER_CONFIG, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    batches = bench_models.synthetic_batches(
        1, 6, 12, vocab_size=15004, num_aspects=11, label_scheme="absent_as_class", seed=3
    )
    grads = []
    for trainer_class in (FocalContrastiveTrainer, bench_models.TwoPassTrainer):
        model = bench_models.build_model(text, seed=0, classifier_dropout=0.0, **config_kwargs)
        trainer = bench_models.make_trainer(model, trainer_class, device="cpu", dtype="fp32")
        loss = trainer.training_step(model, dict(batches[0]))
        grads.append((float(loss), [p.grad.clone() for p in model.parameters()]))
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-5)
    for one, two in zip(grads[0][1], grads[1][1], strict=True):
        torch.testing.assert_close(one, two, rtol=1e-4, atol=1e-6)


def test_bare_baseline_is_encoder_plus_one_linear_and_cross_entropy():
    model = bench_models.build_model(dict(bench_models.TINY_ENCODER_CONFIG), seed=0)
    bare = bench_models.bare_twin(model).eval()
    hidden, cells = 32, model.config.num_aspects * model.config.num_classes
    assert bench_models.parameter_count(bare) == bench_models.parameter_count(model.encoder) + hidden * cells + cells
    batch = bench_models.synthetic_batches(1, 4, 10, vocab_size=15004, num_aspects=11, label_scheme="absent_as_class")[
        0
    ]
    out = bare(**batch)
    assert out.logits.shape == (4, 11, 4)
    expected = torch.nn.functional.cross_entropy(out.logits.reshape(-1, 4), batch["labels"].reshape(-1))
    torch.testing.assert_close(out.loss, expected)
    for name, tensor in model.encoder.state_dict().items():
        torch.testing.assert_close(bare.encoder.state_dict()[name], tensor)


def test_interleaved_timing_rotates_and_counts():
    calls = []
    timings = measure_interleaved({"a": lambda i: calls.append(("a", i)), "b": lambda i: calls.append(("b", i))},
                                  reps=5, warmup=2)  # fmt: skip
    assert [len(v) for v in timings.values()] == [5, 5]
    assert [name for name, _ in calls[:4]] == ["a", "b", "b", "a"]  # the order rotates every round
    assert [i for name, i in calls if name == "a"] == list(range(7))  # each call gets its repetition index
    summary = summarize([3.0, 1.0, 2.0])
    assert summary["median_s"] == 2.0 and summary["seconds"] == [3.0, 1.0, 2.0] and summary["reps"] == 3


def test_peak_rss_sees_an_allocation():
    with PeakRSS() as peak:
        block = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
        block += 1
    result = peak.result()
    del block
    assert result["peak_rss_mib"] - result["rss_before_mib"] > 50
    assert result["method"].startswith(("VmHWM", "ru_maxrss"))


def test_inference_benchmark_skips_without_reviews(tmp_path):
    settings = BenchSettings(quick=True, encoder="tiny", data=str(tmp_path / "absent.csv"))
    document = run_inference_benchmark(settings, tmp_path)
    assert "real reviews" in document["skipped"] and "--data" in document["skipped"]


def test_read_reviews_names_the_columns_it_accepts(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("id,body\n1,Pin trâu\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"reviews.csv: no review text column; allowed names: data, text"):
        read_reviews(path, 10)
    path.write_text("\ufeffdata,Battery\nPin trâu,Positive\n,\nCamera đẹp,\n", encoding="utf-8")
    assert read_reviews(path, 10) == ["Pin trâu", "Camera đẹp"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--reps", "0"], "`--reps` got 0"),
        (["--encoder", "no/such/config.json"], "`--encoder` got 'no/such/config.json'"),
        (["--loss_batch_sizes", "16,x"], "`--loss_batch_sizes` got '16,x'"),
        (["--device", "tpu"], "`--device` got 'tpu'"),
        (["--naive_losses", "nowhere.py"], "`--naive_losses` nowhere.py does not exist"),
        (["--inference_variants", "raw_sorted_dynamic,fast"], "`--inference_variants` got fast; allowed"),
        (["--label_aliases", "{oops"], "`--label_aliases` is not valid JSON"),
    ],
)
def test_bad_arguments_exit_2_with_the_fix(argv, message, tmp_path, capsys):
    assert bench_run(["--quick", "--only", "step", "--out", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err


def test_help_shows_examples(capsys):
    assert bench_run(["--help"]) == 0
    out = capsys.readouterr().out
    assert "python -m benchmarks.bench --quick" in out and "--device cuda --dtype bf16" in out


def _inference_document(rates: dict[str, float], hidden: int) -> dict:
    from benchmarks.bench.inference import _derived

    results = {name: {"median_reviews_per_second": rate} for name, rate in rates.items()}
    return {"benchmark": "inference", "settings": {"quick": False}, "inputs": {"encoder_hidden_size": hidden},
            "results": results, "derived": _derived(results)}  # fmt: skip


@pytest.mark.parametrize(
    ("rates", "hidden", "status", "detail"),
    [
        ({"pipeline_sorted_dynamic": 96.0, "raw_sorted_dynamic": 100.0}, 768, "pass", "same batches"),
        ({"pipeline_sorted_dynamic": 94.0, "raw_sorted_dynamic": 100.0}, 768, "miss", "same batches"),
        ({"pipeline_sorted_dynamic": 75.0, "raw_sorted_dynamic": 100.0}, 64, "pass", "at 75.0% of the bare loop"),
        ({"pipeline_sorted_dynamic": 65.0, "raw_sorted_dynamic": 100.0}, 64, "miss", "at 65.0% of the bare loop"),
        ({"pipeline_sorted_dynamic": 65.0}, 64, "skipped", "not run (--inference_variants)"),
    ],
)
def test_pipeline_target_depends_on_the_encoder_size(tmp_path, rates, hidden, status, detail):
    (tmp_path / "inference.json").write_text(json.dumps(_inference_document(rates, hidden)))
    report = {entry["id"]: entry for entry in check_targets(tmp_path)}
    assert report["pipeline_overhead"]["status"] == status and detail in report["pipeline_overhead"]["detail"]
    assert report["inference_vs_fixed"]["status"] == "skipped"  # raw_fixed_256 was not run


@pytest.mark.shared
def test_int8_benchmark_writes_speed_and_accuracy_side_by_side(tmp_path, shared):
    pytest.importorskip("onnxruntime")
    from benchmarks.bench.int8 import run_int8_benchmark

    data = shared("data", "phone_reviews", "test.csv")
    tokenizer = shared("visobert", "tokenizer.json").parent
    model = helpers.save_tiny_checkpoint(tmp_path / "model", seed=3, stray=False, pooling="mean")
    settings = BenchSettings(quick=True, encoder="tiny", reps=1, warmup=0, reviews=12, inference_sets=2,
                             inference_batch_size=4, data=str(data), tokenizer=str(tokenizer), int8_model=str(model),
                             label_aliases={"Posititve": "positive"}, int8_reps=1)  # fmt: skip
    document = run_int8_benchmark(settings, tmp_path)
    assert TOP_LEVEL <= set(document) and json.loads((tmp_path / "int8.json").read_text())["benchmark"] == "int8"
    speed, accuracy = document["results"]["speed"], document["results"]["accuracy"]
    assert set(speed["results"]) == {"fp32", "int8_onnxruntime", "int8_torch_dynamic"}
    assert all(0 < d < 0.05 for d in speed["max_abs_probability_difference_vs_fp32"].values())
    assert accuracy["reviews"] > 1000 and set(accuracy["results"]) == {
        "fp32",
        "int8_onnxruntime",
        "int8_onnxruntime_per_tensor",
    }
    fp32, int8 = (accuracy["results"][name]["metrics"]["joint_micro_f1"] for name in ("fp32", "int8_onnxruntime"))
    assert accuracy["joint_micro_f1_points_lost"] == pytest.approx(100 * (fp32 - int8))
    assert 0.5 < accuracy["decisions_agreeing"] <= 1.0


def test_compile_runs_the_step_through_torch_compile(monkeypatch):
    compiled = []

    def fake_compile(module):
        compiled.append(module)
        return module

    monkeypatch.setattr(torch, "compile", fake_compile)
    model = bench_models.build_model(dict(bench_models.TINY_ENCODER_CONFIG), seed=0)
    trainer = bench_models.make_trainer(model, FocalContrastiveTrainer, device="cpu", dtype="fp32")
    batches = bench_models.synthetic_batches(
        1, 2, 8, vocab_size=100, num_aspects=model.config.num_aspects, label_scheme=model.config.label_scheme
    )
    seen = []
    monkeypatch.setattr(trainer, "training_step", lambda module, batch: seen.append(module) or torch.zeros(()))
    bench_models.training_step_fn(trainer, batches, compile=True)(0)
    assert compiled == [trainer.model] and seen == [trainer.model]
    bench_models.training_step_fn(trainer, batches)(0)
    assert len(compiled) == 1  # without --compile nothing is compiled


def test_peak_rss_is_never_below_the_start(monkeypatch):
    """VmHWM lags the batched RSS counters: a section that frees memory may read a peak below its start."""
    from hf_visobert_absa.explain import common

    readings = {"VmRSS": 532.0, "VmHWM": 531.7}
    monkeypatch.setattr(common, "_status_mib", lambda key: readings[key])
    with PeakRSS() as peak:
        pass
    if peak.method.startswith("VmHWM"):
        assert peak.result()["peak_rss_mib"] == 532.0
