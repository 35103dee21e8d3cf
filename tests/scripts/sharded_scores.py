"""`score_texts_sharded` under `torchrun --nproc_per_node 2` (gloo): rank 0 writes the assembled probabilities.

Usage: `torchrun --standalone --nproc_per_node 2 -m tests.scripts.sharded_scores OUT_DIR`. Every rank builds
the same tiny model and texts (`texts()`); rank 0 writes `OUT_DIR/sharded.npy` and `OUT_DIR/ranks.json` (how
many reviews each rank scored). The test compares them with one process's `score_texts`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from hf_visobert_absa.evaluation.inference import score_texts
from hf_visobert_absa.evaluation.sharded import score_texts_sharded, start_shard, stop_shard
from tests.helpers import WORDS, tiny_model, tiny_tokenizer

BATCH_SIZE = 3


def texts(count: int = 23) -> list[str]:
    """Reviews of 1 to 17 words, in no length order."""
    return [" ".join(WORDS[(i * 5 + j) % len(WORDS)] for j in range(1 + (i * 7) % 17)) for i in range(count)]


def main(out_dir: Path) -> None:
    torch.set_num_threads(1)
    shard = start_shard("cpu")
    model, tokenizer = tiny_model(0).eval(), tiny_tokenizer()
    own, _ = score_texts(model, tokenizer, texts(), BATCH_SIZE, 64, "cpu", shard=(shard.rank, shard.world_size))
    counts = [None] * shard.world_size
    torch.distributed.all_gather_object(counts, int((~np.isnan(own[:, 0, 0])).sum()))
    probabilities = score_texts_sharded(model, tokenizer, texts(), shard, BATCH_SIZE, 64)
    if shard.is_main:
        np.save(out_dir / "sharded.npy", probabilities)
        (out_dir / "ranks.json").write_text(json.dumps({"world_size": shard.world_size, "scored": counts}))
    else:
        assert probabilities is None
    stop_shard(shard)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
