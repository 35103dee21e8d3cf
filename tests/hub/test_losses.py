"""Focal and multi-label contrastive losses: reference values of ../shared/LOSSES.md, identities, gradchecks,
independent references, edge cases."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from hf_visobert_absa.hub.contrastive_visobert_absa import multilabel_supcon_loss
from hf_visobert_absa.hub.losses_visobert_absa import FocalLoss, MultiLabelSupConLoss, focal_loss

F3_LOGITS = [[[1, 0, -1], [0, 0, 0]], [[3, -2, 0.5], [0.2, 0.1, -0.3]]]
F3_LABELS = [[0, -100], [2, 1]]


@pytest.mark.parametrize(
    ("logits", "labels", "gamma", "alpha", "expected"),
    [
        ([[[2.0, 0.5, -1.0]]], [[0]], 2, None, 0.011092750091),  # F1
        ([[[2.0, 0.5, -1.0]]], [[2]], 2, None, 2.992717782080),  # F2
        (F3_LOGITS, F3_LABELS, 2, [0.25, 0.5, 1.0], 0.810102091056),  # F3
        (F3_LOGITS, F3_LABELS, 0, None, 1.337843622121),  # F4 (= cross-entropy)
        (F3_LOGITS, [[-100, -100], [-100, -100]], 2, None, 0.0),  # F5
    ],
    ids=["F1", "F2", "F3", "F4", "F5"],
)
def test_focal_reference_values(logits, labels, gamma, alpha, expected):
    value = focal_loss(torch.tensor(logits, dtype=torch.float64), torch.tensor(labels), gamma=gamma, alpha=alpha)
    assert value.dtype == torch.float64
    assert abs(value.item() - expected) < 1e-9


def test_focal_gamma0_equals_cross_entropy_and_weighted_sum_over_valid():
    torch.manual_seed(0)
    logits = torch.randn(6, 5, 4, dtype=torch.float64)
    labels = torch.randint(0, 4, (6, 5))
    labels[0, :2] = -100
    ce = F.cross_entropy(logits.reshape(-1, 4), labels.reshape(-1), ignore_index=-100)
    assert torch.equal(focal_loss(logits, labels, gamma=0), ce) or abs(focal_loss(logits, labels, gamma=0) - ce) < 1e-15
    weight = torch.tensor([0.1, 0.5, 1.0, 2.0], dtype=torch.float64)
    n_valid = (labels != -100).sum()
    weighted = F.cross_entropy(logits.reshape(-1, 4), labels.reshape(-1), weight=weight, reduction="sum") / n_valid
    assert abs(focal_loss(logits, labels, gamma=0, alpha=weight) - weighted) < 1e-12
    # float32 within 1e-6
    ce32 = F.cross_entropy(logits.float().reshape(-1, 4), labels.reshape(-1), ignore_index=-100)
    assert abs(focal_loss(logits.float(), labels, gamma=0) - ce32) < 1e-6


def test_focal_per_aspect_alpha_and_reductions():
    torch.manual_seed(1)
    logits = torch.randn(3, 2, 3, dtype=torch.float64)
    labels = torch.tensor([[0, 1], [2, -100], [1, 1]])
    alpha = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.25, 4.0]], dtype=torch.float64)
    per_cell = focal_loss(logits, labels, gamma=2, reduction="none")
    expected = torch.zeros(3, 2, dtype=torch.float64)
    for b in range(3):  # a loop is fine in the TEST: it is the independent reference
        for a in range(2):
            y = labels[b, a].item()
            if y == -100:
                continue
            p = torch.softmax(logits[b, a], -1)[y]
            expected[b, a] = -alpha[a, y] * (1 - p) ** 2 * torch.log(p)
    got = focal_loss(logits, labels, gamma=2, alpha=alpha, reduction="none")
    assert torch.allclose(got, expected, atol=1e-12)
    assert per_cell[1, 1] == 0
    assert abs(focal_loss(logits, labels, gamma=2, alpha=alpha, reduction="sum") - expected.sum()) < 1e-12
    assert abs(focal_loss(logits, labels, gamma=2, alpha=alpha) - expected.sum() / 5) < 1e-12


@pytest.mark.parametrize("gamma", [0, 0.5, 1, 2])
def test_focal_gradcheck(gamma):
    torch.manual_seed(2)
    logits = torch.randn(3, 2, 4, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([[0, 3], [-100, 1], [2, 2]])
    alpha = torch.tensor([0.5, 1.0, 1.5, 2.0], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: focal_loss(x, labels, gamma=gamma, alpha=alpha), (logits,))


def test_focal_half_precision_upcasts_and_saturated_logits_have_finite_gradient():
    torch.manual_seed(3)
    logits = torch.randn(8, 11, 4)
    labels = torch.randint(0, 4, (8, 11))
    ref = focal_loss(logits, labels)
    for dtype in (torch.float16, torch.bfloat16):
        half = focal_loss(logits.to(dtype), labels)
        assert half.dtype == torch.float32 and torch.isfinite(half)
        assert abs(half - ref) < 2e-2
    saturated = torch.zeros(4, 3, 4)
    saturated[..., 0] = 50.0
    saturated.requires_grad_(True)
    for gamma in (0, 0.5, 2):
        loss = focal_loss(saturated, torch.zeros(4, 3, dtype=torch.long), gamma=gamma) + focal_loss(
            saturated, torch.ones(4, 3, dtype=torch.long), gamma=gamma
        )
        (grad,) = torch.autograd.grad(loss, saturated)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()


def test_focal_no_valid_cell_is_zero_with_zero_gradient_and_errors():
    logits = torch.randn(2, 3, 4, requires_grad=True)
    loss = focal_loss(logits, torch.full((2, 3), -100))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(logits.grad, torch.zeros_like(logits))
    with pytest.raises(ValueError, match=r"`reduction` got 'avg'; allowed: 'mean', 'sum', 'none'."):
        focal_loss(logits, torch.zeros(2, 3, dtype=torch.long), reduction="avg")
    with pytest.raises(ValueError, match=r"`labels` has shape \(2,\) but `logits` has \(2, 3, 4\)"):
        focal_loss(logits, torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"A scalar alpha only rescales"):
        focal_loss(logits, torch.zeros(2, 3, dtype=torch.long), alpha=0.25)
    assert FocalLoss(gamma=1.0)(logits, torch.zeros(2, 3, dtype=torch.long)).ndim == 0


# ----------------------------------------------------------------------------------------------- contrastive


def test_supcon_reference_s1():
    z = torch.tensor([[1, 0, 0], [0.8, 0.6, 0], [0, 1, 0], [0, 0.6, 0.8], [0.6, 0, 0.8]], dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1, 2])
    expected = 0.9364826929665686
    assert abs(multilabel_supcon_loss(z, y, temperature=0.5, mode="supcon").item() - expected) < 1e-12
    # MulSupCon with a single aspect is SupCon
    assert abs(multilabel_supcon_loss(z, y[:, None], temperature=0.5, num_classes=3).item() - expected) < 1e-12


def test_mulsupcon_one_aspect_equals_pytorch_metric_learning_supcon():
    pml = pytest.importorskip("pytorch_metric_learning.losses")
    generator = torch.Generator().manual_seed(4)
    for trial in range(10):
        z = F.normalize(torch.randn(16, 8, generator=generator), dim=-1)
        y = torch.randint(0, 3, (16,), generator=generator)
        assert (y != y[0]).any(), "the batch must contain a negative pair"
        reference = pml.SupConLoss(temperature=0.1)(z, y)
        ours = multilabel_supcon_loss(z, y[:, None], temperature=0.1, num_classes=3)
        # 1e-6 relative: float32 carries ~7 significant digits and the loss here is ~7
        assert abs(ours.item() - reference.item()) <= 1e-6 * max(1.0, abs(reference.item())), trial


def _naive_mulsupcon(z, labels, tau):
    """Label-anchor loop: the definition of ../shared/LOSSES.md written out, as an independent reference."""
    batch, aspects = labels.shape
    sim = z @ z.T / tau
    total, anchors = 0.0, 0
    for i in range(batch):
        others = [a for a in range(batch) if a != i]
        log_denominator = torch.logsumexp(sim[i, others], 0)
        for a in range(aspects):
            k = labels[i, a].item()
            if k == -100:
                continue
            positives = [j for j in others if labels[j, a].item() == k]
            if not positives:
                continue
            total = total - sum(sim[i, j] - log_denominator for j in positives) / len(positives)
            anchors += 1
    return total / anchors if anchors else torch.tensor(0.0)


def test_mulsupcon_matches_the_label_anchor_definition():
    generator = torch.Generator().manual_seed(5)
    z = F.normalize(torch.randn(12, 6, dtype=torch.float64, generator=generator), dim=-1)
    labels = torch.randint(-1, 3, (12, 4), generator=generator)
    labels[labels == -1] = -100
    ours = multilabel_supcon_loss(z, labels, temperature=0.1, num_classes=3)
    assert abs(ours.item() - _naive_mulsupcon(z, labels, 0.1).item()) < 1e-10


def _naive_soft_agreement(z, labels, tau, base=0.1, neutral=2):
    """The original design's loop, as its semantics are described in ../shared/LOSSES.md."""
    batch, aspects = labels.shape
    sim = torch.exp(z @ z.T / tau)
    weights = torch.zeros(batch, batch, dtype=z.dtype)
    for a in range(aspects):
        col = labels[:, a]
        match = (col[:, None] == col[None, :]).to(z.dtype)
        nn_ = (col != neutral).to(z.dtype)
        weights += match * (1 + nn_[:, None] * nn_[None, :])
    weights = weights / (2 * aspects) + base
    weights.fill_diagonal_(0)
    loss = 0.0
    for i in range(batch):
        loss = loss - torch.log((sim[i] * weights[i]).sum() / (sim[i].sum() - sim[i, i]))
    return loss / batch


def test_soft_agreement_mode_matches_the_original_soft_weighted_loss():
    generator = torch.Generator().manual_seed(6)
    z = F.normalize(torch.randn(10, 5, dtype=torch.float64, generator=generator), dim=-1)
    labels = torch.randint(0, 3, (10, 11), generator=generator)
    ours = multilabel_supcon_loss(z, labels, temperature=0.1, mode="soft_agreement")
    assert abs(ours.item() - _naive_soft_agreement(z, labels, 0.1).item()) < 1e-10


def test_jaccard_any_exact_semantics_on_a_hand_made_batch():
    z = F.normalize(torch.tensor([[1.0, 0.2], [0.9, 0.1], [0.1, 1.0], [-1.0, 0.3]], dtype=torch.float64), dim=-1)
    labels = torch.tensor([[0, 1], [0, 1], [0, -100], [2, -100]])  # rows 0,1 identical; row 2 shares a pair
    log_p = torch.log_softmax((z @ z.T / 0.1).masked_fill(torch.eye(4, dtype=torch.bool), float("-inf")), 1)
    # exact: only rows 0 and 1 are positives of each other
    exact = -(log_p[0, 1] + log_p[1, 0]) / 2
    assert abs(multilabel_supcon_loss(z, labels, mode="exact", num_classes=3) - exact) < 1e-12
    # any: 0 <-> {1, 2}, 1 <-> {0, 2}, 2 <-> {0, 1}; row 3 has none
    any_ = -((log_p[0, 1] + log_p[0, 2]) / 2 + (log_p[1, 0] + log_p[1, 2]) / 2 + (log_p[2, 0] + log_p[2, 1]) / 2) / 3
    assert abs(multilabel_supcon_loss(z, labels, mode="any", num_classes=3) - any_) < 1e-12
    # jaccard: w01 = 1, w02 = 1/2 -> normalised (2/3, 1/3); w12 likewise; w20 = w21 = 1/2 -> (1/2, 1/2)
    jac = (
        -(
            (2 / 3 * log_p[0, 1] + 1 / 3 * log_p[0, 2])
            + (2 / 3 * log_p[1, 0] + 1 / 3 * log_p[1, 2])
            + (0.5 * log_p[2, 0] + 0.5 * log_p[2, 1])
        )
        / 3
    )
    assert abs(multilabel_supcon_loss(z, labels, mode="jaccard", num_classes=3) - jac) < 1e-12


@pytest.mark.parametrize("mode", ["mulsupcon", "jaccard", "any", "exact", "soft_agreement", "supcon"])
def test_contrastive_gradcheck_every_mode(mode):
    generator = torch.Generator().manual_seed(7)
    raw = torch.randn(6, 4, dtype=torch.float64, generator=generator, requires_grad=True)
    labels = torch.tensor([[0, 1], [0, 1], [1, -100], [1, 2], [-100, 2], [0, -100]])
    if mode == "supcon":
        labels = torch.tensor([0, 0, 1, 1, 2, 0])
    assert torch.autograd.gradcheck(
        lambda x: multilabel_supcon_loss(F.normalize(x, dim=-1), labels, temperature=0.5, mode=mode, num_classes=3),
        (raw,),
    )


@pytest.mark.parametrize("mode", ["mulsupcon", "jaccard", "any", "exact", "soft_agreement"])
@pytest.mark.parametrize(
    "labels",
    [
        torch.tensor([[0, 1]]),  # batch of one
        torch.tensor([[0, -100], [1, -100], [-100, 2]]),  # no positives
        torch.full((3, 2), -100),  # all absent
    ],
    ids=["batch-of-one", "no-positives", "all-absent"],
)
def test_contrastive_degenerate_batches_give_zero_and_finite_gradients(mode, labels):
    raw = torch.randn(labels.shape[0], 4, requires_grad=True)
    loss = multilabel_supcon_loss(F.normalize(raw, dim=-1), labels, mode=mode, num_classes=3)
    loss.backward()
    assert torch.isfinite(raw.grad).all()
    if mode != "soft_agreement" or labels.shape[0] == 1:  # soft_agreement gives every pair a weight: only B=1 is 0
        assert loss.item() == 0.0
        assert torch.count_nonzero(raw.grad) == 0


def test_contrastive_half_precision_and_module_and_errors():
    z = F.normalize(torch.randn(8, 16), dim=-1)
    labels = torch.randint(0, 3, (8, 3))
    ref = multilabel_supcon_loss(z, labels, num_classes=3)
    for dtype in (torch.float16, torch.bfloat16):
        half = multilabel_supcon_loss(z.to(dtype), labels, num_classes=3)
        assert half.dtype == torch.float32 and torch.isfinite(half) and abs(half - ref) < 5e-2
    assert MultiLabelSupConLoss(num_classes=3)(z, labels) == ref
    with pytest.raises(ValueError, match=r"`mode` got 'soft'; allowed: 'mulsupcon', 'jaccard'"):
        multilabel_supcon_loss(z, labels, mode="soft")
    with pytest.raises(ValueError, match=r"`temperature` got 0; allowed: a number > 0."):
        multilabel_supcon_loss(z, labels, temperature=0)
    with pytest.raises(ValueError, match=r"same B"):
        multilabel_supcon_loss(z, labels[:3])
