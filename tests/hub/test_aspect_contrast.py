"""`contrastive_mode="aspect_sentiment"`: supervised contrast over each mentioned aspect's own embedding."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from hf_visobert_absa import ViSoBertAbsaConfig, ViSoBertAbsaForAspectSentiment
from hf_visobert_absa.hub.contrastive_visobert_absa import aspect_sentiment_supcon_loss, multilabel_supcon_loss
from hf_visobert_absa.hub.losses_visobert_absa import compute_absa_loss
from tests.helpers import ASPECTS, full_batch, loss_config, tiny_model, tiny_text_config


def _by_hand(z: torch.Tensor, labels: torch.Tensor, temperature: float) -> float:
    """SupCon L_out written out cell by cell over the mentioned cells (label != -100)."""
    cells = [(b, a) for b in range(labels.shape[0]) for a in range(labels.shape[1]) if labels[b, a] != -100]
    total, anchors = 0.0, 0
    for i in cells:
        positives = [j for j in cells if j != i and labels[j] == labels[i]]
        if not positives:
            continue
        sims = {j: float(z[i] @ z[j]) / temperature for j in cells if j != i}
        log_denominator = math.log(sum(math.exp(s) for s in sims.values()))
        total += -sum(sims[j] - log_denominator for j in positives) / len(positives)
        anchors += 1
    return total / anchors


def test_loss_is_supcon_over_the_mentioned_cells():
    generator = torch.Generator().manual_seed(0)
    z = F.normalize(torch.randn(3, 4, 6, generator=generator), dim=-1)
    labels = torch.tensor([[0, -100, 1, 2], [0, 1, -100, -100], [2, -100, 1, 0]])
    got = aspect_sentiment_supcon_loss(z, labels, temperature=0.5)
    assert float(got) == pytest.approx(_by_hand(z, labels, 0.5), rel=1e-5)


def test_not_mentioned_cells_take_no_part():
    z = F.normalize(torch.randn(2, 3, 5), dim=-1).requires_grad_()
    labels = torch.tensor([[0, -100, 1], [0, 1, -100]])
    loss = aspect_sentiment_supcon_loss(z, labels)
    moved = z.detach().clone()
    moved[0, 1] = F.normalize(torch.randn(5), dim=-1)  # a not-mentioned cell
    torch.testing.assert_close(aspect_sentiment_supcon_loss(moved, labels), loss.detach())
    loss.backward()
    assert z.grad[0, 1].abs().sum() == 0 and z.grad[1, 2].abs().sum() == 0
    assert z.grad[0, 0].abs().sum() > 0


def test_fewer_than_two_mentioned_cells_give_zero_with_a_finite_gradient():
    z = F.normalize(torch.randn(2, 2, 4), dim=-1).requires_grad_()
    loss = aspect_sentiment_supcon_loss(z, torch.tensor([[1, -100], [-100, -100]]))
    loss.backward()
    assert float(loss.detach()) == 0.0 and torch.isfinite(z.grad).all()


def test_model_contrasts_the_projections_of_the_aspects_own_vectors():
    model = tiny_model(seed=0, aspects=ASPECTS, pooling="aspect_query", classifier_dropout=0.0,
                       contrastive_mode="aspect_sentiment").eval()  # fmt: skip
    batch = full_batch()
    out = model(**batch)
    assert tuple(out.aspect_embeddings.shape) == (8, len(ASPECTS), 256)
    torch.testing.assert_close(out.aspect_embeddings.norm(dim=-1), torch.ones(8, len(ASPECTS)))
    with torch.no_grad():
        hidden = model.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        own = model.projection(model.aspect_pooling(hidden, batch["attention_mask"]))  # [B, A, D]
    torch.testing.assert_close(out.aspect_embeddings, own)
    sentiment = torch.where(batch["labels"] > 0, batch["labels"] - 1, torch.full_like(batch["labels"], -100))
    torch.testing.assert_close(out.contrastive_loss, aspect_sentiment_supcon_loss(own, sentiment))
    torch.testing.assert_close(out.loss, 0.8 * out.focal_loss + 0.2 * out.contrastive_loss)
    out.loss.backward()
    assert model.aspect_pooling.queries.grad.abs().sum() > 0 and model.projection.dense.weight.grad.abs().sum() > 0


def test_other_modes_return_no_aspect_embeddings():
    out = tiny_model(seed=0, aspects=ASPECTS, pooling="aspect_query", contrastive_mode="mulsupcon")(**full_batch())
    assert out.aspect_embeddings is None
    assert len(out.to_tuple()) == 5  # loss, logits, embeddings, focal, contrastive: the tuple is unchanged


def test_mode_survives_save_load(tmp_path):
    model = tiny_model(seed=0, aspects=ASPECTS, pooling="aspect_prompt", contrastive_mode="aspect_sentiment")
    model.save_pretrained(tmp_path)
    loaded = ViSoBertAbsaForAspectSentiment.from_pretrained(tmp_path).eval()
    assert loaded.config.contrastive_mode == "aspect_sentiment"
    assert "aspect_embeddings" in loaded.config.keys_to_ignore_at_inference  # never reaches compute_metrics
    assert tuple(loaded(**full_batch()).aspect_embeddings.shape) == (8, len(ASPECTS), 256)


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"pooling": "mean"}, "with pooling='mean'. Use pooling='aspect_query' or 'aspect_prompt'"),
        ({"pooling": "aspect_query", "label_scheme": "absent_as_neutral"}, "with label_scheme='absent_as_neutral'"),
        ({"pooling": "aspect_query", "contrastive_across_devices": True}, "Set contrastive_across_devices=False"),
    ],
)
def test_config_refuses_what_the_mode_cannot_use(fields, needle):
    with pytest.raises(ValueError, match="`contrastive_mode` got 'aspect_sentiment'") as error:
        ViSoBertAbsaConfig(text_config=tiny_text_config(), contrastive_mode="aspect_sentiment", **fields)
    assert needle in str(error.value)


def test_review_level_loss_and_the_combined_loss_refuse_the_mode_without_aspect_embeddings():
    z = F.normalize(torch.randn(4, 8), dim=-1)
    labels = torch.tensor([[0, -100], [0, 1], [-100, 1], [2, -100]])
    with pytest.raises(ValueError, match="use `aspect_sentiment_supcon_loss`"):
        multilabel_supcon_loss(z, labels, mode="aspect_sentiment")
    config = loss_config(contrastive_mode="aspect_sentiment")
    with pytest.raises(ValueError, match="needs `aspect_embeddings`"):
        compute_absa_loss(torch.randn(4, 2, 4), z, torch.tensor([[1, 0], [1, 2], [0, 2], [3, 0]]), config)
