"""Facts the model card takes from the run rather than assuming them: the training data's language, an example
review from it, the subset used, and the encoder's family and name.

Training records the first three in `model/training_data.json` ([`training_data_facts`]); export reads them back
([`read_training_data`]) and describes the encoder from the config ([`describe_encoder`]).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Letters only Vietnamese writes among the Latin scripts (with their tone-marked forms, matched after NFC).
_VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
_ENGLISH_WORDS = frozenset("the and is was are it this with but not very for of to".split())
#: Examples in the card are kept short enough to read at a glance.
EXAMPLE_MAX_CHARS = 160
#: A Hub model id: `name` or `org/name` (a local path has more slashes, a dot or tilde start, or a backslash).
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")
VISOBERT_ID = "uitnlp/visobert"


def guess_language(texts: Sequence[str]) -> str | None:
    """ISO 639-1 code of the reviews' language when the text itself shows it, else `None` (never a default).

    Vietnamese (`"vi"`): most texts hold a letter only Vietnamese uses (ă, đ, ơ, ư, tone-marked vowels).
    English (`"en"`): most texts are ASCII and hold common English function words. Anything else is not guessed.

    Example:

    ```python
    >>> guess_language(["Pin trâu, camera chụp đẹp", "giao hàng chậm"])
    'vi'
    ```
    """
    texts = [t for t in texts if isinstance(t, str) and t.strip()][:2000]
    if not texts:
        return None
    vietnamese = sum(bool(_VIETNAMESE.search(t)) for t in texts)
    if vietnamese > len(texts) / 2:
        return "vi"
    english = sum(t.isascii() and bool(_ENGLISH_WORDS & set(re.findall(r"[a-z]+", t.lower()))) for t in texts)
    return "en" if english > len(texts) / 2 else None


def example_review(texts: Sequence[str], gold: Any) -> str | None:
    """A short training review for the card's usage example: the first one of at most [`EXAMPLE_MAX_CHARS`]
    characters that mentions the most aspects (ties: the earliest), from canonical labels `gold` `[N, A]`."""
    gold = np.asarray(gold)
    best, best_count = None, -1
    for text, row in zip(texts, gold, strict=True):
        if not isinstance(text, str) or not text.strip() or len(text) > EXAMPLE_MAX_CHARS:
            continue
        count = int((row > 0).sum())
        if count > best_count:
            best, best_count = " ".join(text.split()), count
    return best


def training_data_facts(texts: Sequence[str], gold: Any, subsets: dict[str, dict[str, int]]) -> dict[str, Any]:
    """What `model/training_data.json` records for the card: language, example review, subsets used."""
    return {"language": guess_language(texts), "example_review": example_review(texts, gold), "subsets": subsets}


def read_training_data(folder: str | Path) -> dict[str, Any]:
    """The facts recorded by training in `folder/training_data.json` (an empty dict when there are none)."""
    path = Path(folder) / "training_data.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def hub_id(name: str | None) -> str | None:
    """`name` when it is a Hub model id, `None` for a local path (a card never shows a machine's path)."""
    if not isinstance(name, str) or Path(name).expanduser().is_absolute() or name.startswith((".", "~")):
        return None
    return name if _HUB_ID.fullmatch(name) and not Path(name).exists() else None


def is_visobert(config: Any) -> bool:
    """Whether the model's encoder is ViSoBERT (started from `uitnlp/visobert`)."""
    name = getattr(config, "base_model_name_or_path", None) or ""
    return name.rstrip("/").lower() == VISOBERT_ID or Path(name).name.lower() == "visobert"


def describe_encoder(config: Any, num_parameters: int | None = None) -> str:
    """One sentence naming the encoder: family, size and source, taken from the config.

    Example:

    ```python
    >>> describe_encoder(config)
    'a BERT-style encoder (`bert`, 6 layers, hidden size 384, vocabulary 30522) started from `sentence-transformers/all-MiniLM-L6-v2`'
    ```
    """
    text_config = config.text_config
    family = "ViSoBERT" if is_visobert(config) else f"{_family(text_config.model_type)}-style"
    size = (
        f"`{text_config.model_type}`, {text_config.num_hidden_layers} layers, hidden size {text_config.hidden_size}, "
        f"vocabulary {text_config.vocab_size}"
    )
    name = getattr(config, "base_model_name_or_path", None)
    source = hub_id(name)
    if source:
        origin = f" started from [`{source}`](https://huggingface.co/{source})"
    elif name:
        origin = f" started from a local encoder folder (`{Path(name).name}`)"
    else:
        origin = ""
    return f"a {family} encoder ({size}){origin}"


def _family(model_type: str) -> str:
    names = {"xlm-roberta": "XLM-RoBERTa", "roberta": "RoBERTa", "bert": "BERT", "distilbert": "DistilBERT",
             "deberta-v2": "DeBERTa-v2", "electra": "ELECTRA", "camembert": "CamemBERT", "mpnet": "MPNet"}  # fmt: skip
    return names.get(model_type, model_type)


__all__ = [
    "describe_encoder",
    "example_review",
    "guess_language",
    "hub_id",
    "is_visobert",
    "read_training_data",
    "training_data_facts",
]
