"""Training: the `FocalContrastiveTrainer`, the CLI's argument dataclasses, crash-safe checkpoints and the
`train` orchestration."""
