"""Starting values of `pooling="aspect_prompt"`'s prompts: each aspect's name, as the encoder embeds its words.

A category name such as `FOOD#QUALITY`, `anecdotes/miscellaneous` or `Shop_Service` is split into words at
`#`, `/`, `_`, `&`, `-` and spaces; the prompt starts as the mean input embedding of those words' tokens, so the
encoder knows from the first step which aspect each prompt stands for — the information the sentence-pair
formulation puts in its auxiliary sentence (Sun et al., NAACL 2019).
"""

from __future__ import annotations

import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

#: Separators of the field's category names (SemEval `ENTITY#ATTRIBUTE`, `anecdotes/miscellaneous`, ...).
NAME_SEPARATORS = re.compile(r"[#/_&\-\s]+")

#: Values of `--aspect_prompt_init`.
PROMPT_INITS = ("names", "random")


def name_words(aspect: str) -> str:
    """`"FOOD#STYLE_OPTIONS"` -> `"FOOD STYLE OPTIONS"`."""
    return " ".join(part for part in NAME_SEPARATORS.split(aspect) if part)


def init_prompts_from_names(model: Any, tokenizer: Any) -> list[str]:
    """Set each prompt to the mean input embedding of its aspect name's tokens; returns the aspects whose name
    gave no token (their prompts keep the random start)."""
    import torch

    embeddings = model.get_input_embeddings().weight
    prompts = model.aspect_prompts.prompts
    unnamed = []
    with torch.no_grad():
        for index, aspect in enumerate(model.config.aspects):
            ids = tokenizer(name_words(aspect), add_special_tokens=False)["input_ids"]
            ids = [i for i in ids if i != tokenizer.unk_token_id]
            if not ids:
                unnamed.append(aspect)
                continue
            prompts[index] = embeddings[torch.tensor(ids)].mean(dim=0).to(prompts.dtype)
    if unnamed:
        logger.warning("Aspect prompts start random for %s: their names give no known token.", unnamed)
    return unnamed
