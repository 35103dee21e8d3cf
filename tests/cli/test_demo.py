"""`hf-visobert-absa demo`: the built-in sample, the sample tokenizer, and one short end-to-end run through the CLI
(train, evaluate, save, reload in a clean process, label three new reviews)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from hf_visobert_absa.cli.main import main as cli_main
from hf_visobert_absa.demo.run import NEW_REVIEWS, demo_data_files
from hf_visobert_absa.demo.sample_encoder import train_sample_tokenizer
from hf_visobert_absa.hub.labels_visobert_absa import DEFAULT_ASPECTS, SENTIMENTS

DEMO_DATA = Path(demo_data_files()["train"]).parent


def _records(split: str) -> list[dict]:
    path = Path(demo_data_files()[split])
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ------------------------------------------------------------------------------------------------ the sample
def test_sample_size_aspects_and_labels():
    train, validation = _records("train"), _records("validation")
    assert len(train) + len(validation) >= 120
    assert len(validation) >= 0.15 * (len(train) + len(validation))
    for record in train + validation:
        assert set(record) == {"text", "aspects"}
        assert isinstance(record["text"], str) and record["text"].strip()
        assert 1 <= len(record["aspects"]) <= 3, record
        assert set(record["aspects"]) <= set(DEFAULT_ASPECTS), record
        assert set(record["aspects"].values()) <= set(SENTIMENTS), record
    # Every aspect with every sentiment in both splits; Others mostly neutral, as in the real phone data.
    for split in (train, validation):
        pairs = Counter((a, s) for r in split for a, s in r["aspects"].items())
        missing = [(a, s) for a in DEFAULT_ASPECTS for s in SENTIMENTS if not pairs[(a, s)]]
        assert not missing, missing
    others = Counter(r["aspects"]["Others"] for r in train + validation if "Others" in r["aspects"])
    assert others["neutral"] > sum(others.values()) / 2


def test_sample_loads_cleanly_and_splits_are_disjoint():
    from hf_visobert_absa.data.loading import load_absa_dataset

    datasets, report = load_absa_dataset(demo_data_files(), format="jsonl", aspects=list(DEFAULT_ASPECTS))
    assert report.aspects == list(DEFAULT_ASPECTS)
    for split in ("train", "validation"):
        problems = {kind: p.count for kind, p in report.splits[split].problems.items() if p.count}
        assert not problems, (split, problems)
    train = {t.casefold() for t in datasets["train"]["text"]}
    validation = {t.casefold() for t in datasets["validation"]["text"]}
    assert not train & validation
    assert not {r.casefold() for r in NEW_REVIEWS} & (train | validation)
    # Diacritics and informal spellings are both present.
    texts = datasets["train"]["text"]
    assert sum(
        bool(re.search("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", t.lower())) for t in texts
    ) > 0.8 * len(texts)
    assert any(re.search(r"\b(ko|k|dc|đc|sp|mn)\b", t.lower()) for t in texts)


def test_sample_readme_counts_match_the_files():
    readme = (DEMO_DATA / "README.md").read_text(encoding="utf-8")
    for split in ("train", "validation"):
        match = re.search(rf"\| `{split}\.jsonl` \| (\d+) \|", readme)
        assert match, f"README.md lacks the row of {split}.jsonl"
        assert int(match.group(1)) == len(_records(split))


# ------------------------------------------------------------------------------------------------ tokenizer
def test_sample_tokenizer_has_xlmr_specials_and_round_trips(tmp_path):
    from transformers import AutoTokenizer

    tokenizer = train_sample_tokenizer([r["text"] for r in _records("train")])
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    assert tokenizer.convert_tokens_to_ids(specials) == [0, 1, 2, 3, 4]
    ids = tokenizer("Pin trâu, camera đẹp")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and 3 not in ids
    assert tokenizer.convert_ids_to_tokens(ids)[1:3] == ["▁pin", "▁trâu"]
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    for text in NEW_REVIEWS:
        assert reloaded(text)["input_ids"] == tokenizer(text)["input_ids"]


# ------------------------------------------------------------------------------------------------ the command
@pytest.mark.subprocess
def test_demo_command_end_to_end_short(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli_main(["demo", "--epochs", "1", "--output-dir", str(out), "--seed", "3"])
    printed = capsys.readouterr().out
    assert code == 0, printed

    # The metrics table on the validation reviews.
    validation = _records("validation")
    assert f"examples: {len(validation)}" in printed
    assert "Aspect detection, micro" in printed and "Sentiment on gold-mentioned aspects" in printed
    results = json.loads((out / "demo_results.json").read_text(encoding="utf-8"))
    assert results["num_validation"] == len(validation) and results["epochs"] == 1.0
    assert 0.0 <= results["metrics"]["joint_micro_f1"] <= 1.0

    # The saved folder is Hub-loadable: auto_map, code files, weights and tokenizer.
    model_dir = out / "model"
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    assert set(config["auto_map"]) >= {"AutoConfig", "AutoModel", "AutoModelForSequenceClassification"}
    for name in (
        "modeling_visobert_absa.py",
        "configuration_visobert_absa.py",
        "losses_visobert_absa.py",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    ):
        assert (model_dir / name).is_file(), name

    # The clean process loaded it without the package and labelled the three new reviews; the demo relayed it.
    assert "hf_visobert_absa on sys.path: False, importable: False" in printed
    assert re.search(r"-> transformers_modules\.\S+\.modeling_visobert_absa\.ViSoBertAbsaForAspectSentiment", printed)
    for number, review in enumerate(NEW_REVIEWS, start=1):
        assert f"[{number}] {review}" in printed
    for aspect in DEFAULT_ASPECTS:
        assert re.search(rf"^  {aspect}\s+(\S+ \d\.\d\d\s+){{3}}$", printed, flags=re.MULTILINE), aspect
    predictions = results["predictions"]
    assert [p["review"] for p in predictions] == list(NEW_REVIEWS)
    for p in predictions:
        assert list(p["labels"]) == list(DEFAULT_ASPECTS)
        assert set(p["labels"].values()) <= {"none", *SENTIMENTS}
        probabilities = np.asarray(p["probabilities"])
        assert probabilities.shape == (len(DEFAULT_ASPECTS), 4)
        np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
        assert list(p["labels"].values()) == [("none", *SENTIMENTS)[i] for i in probabilities.argmax(-1)]
    assert results["max_abs_probability_diff"] <= 1e-5
    assert "wall time:" in printed and str(model_dir) in printed


def test_demo_refuses_a_non_empty_output_dir(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    assert cli_main(["demo", "--output-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert str(tmp_path) in error and "not empty" in error and "--overwrite" in error
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("argv", [["--epochs", "0"], ["--batch-size", "-1"], ["--epochs", "abc"], ["--bogus"]])
def test_demo_rejects_bad_arguments(argv, capsys):
    assert cli_main(["demo", *argv]) == 2
    assert "hf-visobert-absa demo" in capsys.readouterr().err


def test_demo_help_shows_examples(capsys):
    assert cli_main(["demo", "--help"]) == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "--encoder uitnlp/visobert" in text and "--output-dir" in text


@pytest.mark.slow
@pytest.mark.subprocess
def test_demo_default_settings_learn_something(tmp_path, capsys):
    """The default run (about a minute) beats predicting "not mentioned" everywhere, which scores 0 here."""
    assert cli_main(["demo", "--output-dir", str(tmp_path / "run")]) == 0
    metrics = json.loads((tmp_path / "run" / "demo_results.json").read_text(encoding="utf-8"))["metrics"]
    assert metrics["detection_micro_f1"] > 0.4
    assert metrics["joint_micro_f1"] > 0.25


def _save_tiny_mlm_encoder(folder: Path, tokenizer, vocab_size: int, max_positions: int) -> None:
    """A tiny `XLMRobertaForMaskedLM` (keys prefixed `roberta.`, as `uitnlp/visobert`) saved with `tokenizer`."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    from tests.helpers import tiny_text_config

    torch.manual_seed(0)
    settings = tiny_text_config(vocab_size=vocab_size, max_position_embeddings=max_positions)
    settings.pop("model_type")
    XLMRobertaForMaskedLM(XLMRobertaConfig(**settings)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


@pytest.mark.subprocess
def test_demo_with_a_local_pretrained_encoder(tmp_path, capsys):
    """`--encoder <folder>` goes through `load_tokenizer` + `from_pretrained_encoder` (MLM checkpoint) instead of
    the sample tokenizer and the encoder built from config."""
    from tests.helpers import tiny_tokenizer

    tokenizer = tiny_tokenizer()
    _save_tiny_mlm_encoder(tmp_path / "encoder", tokenizer, vocab_size=len(tokenizer), max_positions=130)
    out = tmp_path / "run"
    argv = ["demo", "--encoder", str(tmp_path / "encoder"), "--epochs", "1", "--threads", "1", "--output-dir", str(out)]
    assert cli_main(argv) == 0, capsys.readouterr().err
    results = json.loads((out / "demo_results.json").read_text(encoding="utf-8"))
    assert results["encoder"] == str(tmp_path / "encoder") and results["pooling"] == "aspect_query"  # the recipe's
    config = json.loads((out / "model" / "config.json").read_text(encoding="utf-8"))
    assert config["base_model_name_or_path"] == "./encoder"  # the folder, never its machine path
    assert config["text_config"]["hidden_size"] == 32
    assert [p["review"] for p in results["predictions"]] == list(NEW_REVIEWS)


@pytest.mark.shared
@pytest.mark.subprocess
def test_demo_with_the_real_visobert_tokenizer(tmp_path, capsys, shared):
    """The real ViSoBERT tokenizer files (which plain `AutoTokenizer` fails on under transformers 5) with a tiny
    random encoder of ViSoBERT's vocabulary size: the demo trains, saves and reloads in a clean process."""
    from hf_visobert_absa.data.tokenization import load_tokenizer

    visobert = shared("visobert")
    tokenizer = load_tokenizer(visobert)
    vocab_size = json.loads((visobert / "config.json").read_text(encoding="utf-8"))["vocab_size"]
    _save_tiny_mlm_encoder(tmp_path / "encoder", tokenizer, vocab_size=vocab_size, max_positions=514)
    out = tmp_path / "run"
    argv = ["demo", "--encoder", str(tmp_path / "encoder"), "--epochs", "1", "--threads", "1", "--output-dir", str(out)]
    assert cli_main(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "importable: False" in printed
    reloaded = load_tokenizer(out / "model")
    assert reloaded.convert_ids_to_tokens(reloaded("Pin trâu, camera chụp đẹp")["input_ids"]) == [
        "<s>",
        "▁Pin",
        "▁trâu",
        ",",
        "▁camera",
        "▁chụp",
        "▁đẹp",
        "</s>",
    ]
