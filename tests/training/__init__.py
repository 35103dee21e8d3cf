"""Tests of the trainer, crash-safe resumption, distributed training."""
