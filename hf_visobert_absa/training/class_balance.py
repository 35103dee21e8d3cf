"""What the training split's class frequencies set before training: balanced focal weights and the prior-
initialised output bias. Both read one count table, per aspect and class, of the scheme-coded training labels."""

from __future__ import annotations

import numpy as np


def class_counts(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-aspect class counts `[A, C]` of scheme-coded labels `[N, A]` (-100 ignored)."""
    labels = np.asarray(labels)
    return np.stack([np.bincount(col[col != -100], minlength=num_classes) for col in labels.T]).astype(float)


def balanced_focal_alpha(labels: np.ndarray, num_classes: int) -> list[list[float]]:
    """Per-aspect class weights `n_a / (C * count[a, c])` from scheme-coded training labels `[N, A]`
    (-100 ignored); a class never seen as a target gets weight 1.0 (its weight is never used)."""
    counts = class_counts(labels, num_classes)  # [A, C]
    totals = counts.sum(axis=1, keepdims=True)  # [A, 1]
    safe = np.where(counts > 0, counts, 1.0)
    return np.where(counts > 0, totals / (num_classes * safe), 1.0).tolist()


def class_priors(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Per-aspect class frequencies `[A, C]` of scheme-coded labels `[N, A]` (-100 ignored), each class counted
    at least once (add-one), so that no log-prior is minus infinity."""
    counts = class_counts(labels, num_classes) + 1.0
    return counts / counts.sum(axis=1, keepdims=True)


def init_bias_to_priors(model, labels: np.ndarray) -> None:
    """Set the classifier's output bias to the log of the training class priors per aspect, so that the untrained
    head already predicts the class frequencies (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017,
    section 3.3: initialise the rare class at its prior to keep the dominant class from swamping early training)."""
    import torch

    config = model.config
    priors = class_priors(labels, config.num_classes)  # [A, C]
    final = model.classifier.out_proj
    with torch.no_grad():
        final.bias.copy_(torch.as_tensor(np.log(priors), dtype=final.bias.dtype).reshape(-1))


__all__ = ["balanced_focal_alpha", "class_counts", "class_priors", "init_bias_to_priors"]
