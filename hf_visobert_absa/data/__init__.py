"""Reading review files into `datasets` (4 formats, strict checks, a `DatasetReport`), label schemes, and the
ViSoBERT-safe tokenizer loader."""

from __future__ import annotations

from .loading import load_absa_dataset, tokenize_dataset
from .tokenization import load_tokenizer

__all__ = ["load_absa_dataset", "load_tokenizer", "tokenize_dataset"]
