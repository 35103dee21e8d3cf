"""Train the tiny aspect-sentiment model with `FocalContrastiveTrainer` on CPU, with faults injected on request.

Run by `tests/training/test_resume.py` (not collected by pytest):

    python tests/scripts/train_resume.py OUT_DIR [--resume] [--hang-at-step K] [--hang-while-saving-at-step K]
                                                 [--no-callback]

- `--resume`: `trainer.train(resume_from_checkpoint=True)` (the last checkpoint in OUT_DIR/run).
- `--hang-at-step K`: after optimiser step K, write OUT_DIR/hanging and sleep, so that the test can kill the
  process with SIGKILL in the middle of training.
- `--hang-while-saving-at-step K`: the same while checkpoint K is being saved, after the weights are written
  and before the optimizer, RNG and trainer state (a crash during save).
- `--no-callback`: without `CrashSafeCheckpointCallback`.

A run that finishes writes OUT_DIR/final.safetensors (weights) and OUT_DIR/final.json (eval metrics).
Deterministic on CPU: one thread, fixed seeds, dropout on (the RNG state must be restored on resume), and
max_steps crossing an epoch boundary (the sampler must be re-seeded on resume).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import DataCollatorWithPadding, Trainer, TrainerCallback, TrainingArguments

from hf_visobert_absa.evaluation.metrics import build_compute_metrics  # noqa: E402
from hf_visobert_absa.training.checkpointing import CrashSafeCheckpointCallback  # noqa: E402
from hf_visobert_absa.training.trainer import FocalContrastiveTrainer  # noqa: E402
from tests.helpers import ASPECTS, tiny_examples, tiny_model, tiny_tokenizer  # noqa: E402  # noqa: E402

MAX_STEPS = 8  # 24 examples / batch 4 = 6 steps per epoch: the run crosses an epoch boundary
SAVE_STEPS = 2


def hang(flag: Path) -> None:
    """Tell the test where we are and wait for its SIGKILL."""
    flag.write_text(str(os.getpid()))
    time.sleep(600)
    raise SystemExit("nobody killed this run")


class HangAtStep(TrainerCallback):
    """Blocks after step `step`, so that a SIGKILL lands mid-training."""

    def __init__(self, step: int, flag: Path) -> None:
        self.step, self.flag = step, flag

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            hang(self.flag)
        return control


def build_trainer(out_dir: Path, callbacks: list[TrainerCallback]) -> FocalContrastiveTrainer:
    tokenizer = tiny_tokenizer()
    model = tiny_model(seed=0, aspects=ASPECTS, pooling="mean")  # classifier dropout 0.3 stays on
    args = TrainingArguments(
        output_dir=str(out_dir / "run"),
        use_cpu=True,
        per_device_train_batch_size=4,
        per_device_eval_batch_size=8,
        max_steps=MAX_STEPS,
        save_steps=SAVE_STEPS,
        learning_rate=5e-3,
        logging_steps=1,
        report_to="none",
        seed=0,
        data_seed=0,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    return FocalContrastiveTrainer(
        model=model,
        args=args,
        train_dataset=tiny_examples(tokenizer, count=24, seed=11),
        eval_dataset=tiny_examples(tokenizer, count=8, seed=12),
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=build_compute_metrics(model.config),
        callbacks=callbacks,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--hang-at-step", type=int)
    parser.add_argument("--hang-while-saving-at-step", type=int)
    parser.add_argument("--no-callback", action="store_true")
    options = parser.parse_args(argv)
    torch.set_num_threads(1)

    callbacks: list[TrainerCallback] = [] if options.no_callback else [CrashSafeCheckpointCallback()]
    if options.hang_at_step:
        callbacks.append(HangAtStep(options.hang_at_step, options.out_dir / "hanging"))
    if options.hang_while_saving_at_step:
        original = Trainer._save_optimizer_and_scheduler

        def hanging_save(self, output_dir):
            if self.state.global_step == options.hang_while_saving_at_step:
                hang(options.out_dir / "hanging")
            return original(self, output_dir)

        Trainer._save_optimizer_and_scheduler = hanging_save

    trainer = build_trainer(options.out_dir, callbacks)
    trainer.train(resume_from_checkpoint=True if options.resume else None)
    state = {name: tensor.detach().contiguous() for name, tensor in trainer.model.state_dict().items()}
    save_file(state, str(options.out_dir / "final.safetensors"))
    metrics = {k: v for k, v in trainer.evaluate().items() if "runtime" not in k and "per_second" not in k}
    (options.out_dir / "final.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
