"""`pooling="aspect_query"` (one learned query per aspect) and per-aspect `detection_thresholds` in the config."""

from __future__ import annotations

import json

import pytest
import torch

from hf_visobert_absa import ViSoBertAbsaConfig, ViSoBertAbsaForAspectSentiment
from hf_visobert_absa.hub.pooling_visobert_absa import AspectQueryPooling
from tests.helpers import ASPECTS, assert_int8_close, full_batch, tiny_model, tiny_text_config


def _model(**kwargs):
    model = tiny_model(seed=0, aspects=ASPECTS, pooling="aspect_query", classifier_dropout=0.0, **kwargs)
    return model.eval()


def test_shapes_and_one_forward_with_loss():
    model = _model()
    batch = full_batch()
    out = model(**batch)
    assert tuple(out.logits.shape) == (8, len(ASPECTS), 4)
    assert tuple(out.embeddings.shape) == (8, 256)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    assert model.aspect_pooling.queries.grad is not None and model.aspect_pooling.queries.grad.abs().sum() > 0


def test_each_aspect_reads_its_own_vector():
    """logits[b, a] = head(vector[b, a])[a]: computed here by hand from the pooled vectors."""
    model = _model()
    batch = full_batch()
    with torch.no_grad():
        hidden = model.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        vectors = model.aspect_pooling(hidden, batch["attention_mask"])  # [B, A, H]
        expected = torch.stack(
            [model.classifier(vectors[:, a]).view(8, len(ASPECTS), 4)[:, a] for a in range(len(ASPECTS))], dim=1
        )
        got = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("heads", [1, 4])
def test_padding_does_not_change_the_output(heads):
    model = _model(aspect_query_heads=heads)
    assert model.aspect_pooling.num_heads == heads
    ids = torch.tensor([[0, 7, 9, 11, 2]])
    padded = torch.tensor([[0, 7, 9, 11, 2, 1, 1, 1]])
    with torch.no_grad():
        short = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
        long = model(input_ids=padded, attention_mask=(padded != 1).long()).logits
    torch.testing.assert_close(short, long, rtol=1e-5, atol=1e-5)


def test_zero_queries_are_mean_pooling():
    pooling = AspectQueryPooling(num_aspects=2, hidden_size=4)
    hidden = torch.randn(3, 5, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    out = pooling(hidden, mask)
    mean = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    torch.testing.assert_close(out, mean[:, None].expand(3, 2, 4))


def test_heads_pool_each_slice_by_its_own_weights():
    """K heads = single-head attention on each H / K slice with that slice of the query, by hand."""
    torch.manual_seed(3)
    pooling = AspectQueryPooling(num_aspects=2, hidden_size=6, num_heads=3)
    torch.nn.init.normal_(pooling.queries)
    hidden = torch.randn(2, 4, 6)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    slices = []
    for k in range(3):
        part = slice(2 * k, 2 * k + 2)
        one_head = AspectQueryPooling(num_aspects=2, hidden_size=2)
        one_head.queries.data = pooling.queries.data[:, part]
        slices.append(one_head(hidden[..., part], mask))
    torch.testing.assert_close(pooling(hidden, mask), torch.cat(slices, dim=-1))
    # and the heads change the result: one head over the whole width weighs the tokens differently
    single = AspectQueryPooling(num_aspects=2, hidden_size=6)
    single.queries.data = pooling.queries.data
    assert not torch.allclose(single(hidden, mask), pooling(hidden, mask))


def test_heads_survive_save_load(tmp_path):
    model = _model(aspect_query_heads=4)
    ids = torch.tensor([[0, 7, 9, 11, 2]])
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["aspect_query_heads"] == 4
    loaded = ViSoBertAbsaForAspectSentiment.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(input_ids=ids).logits, model(input_ids=ids).logits)


def test_a_config_saved_before_the_heads_field_loads_one_head(tmp_path):
    _model().save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config.pop("aspect_query_heads")
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert ViSoBertAbsaForAspectSentiment.from_pretrained(tmp_path).aspect_pooling.num_heads == 1


def test_save_load_round_trip(tmp_path):
    model = _model(detection_thresholds=[0.3, 0.5, 0.7])
    model.save_pretrained(tmp_path)
    loaded = ViSoBertAbsaForAspectSentiment.from_pretrained(tmp_path).eval()
    assert loaded.config.pooling == "aspect_query" and loaded.config.detection_thresholds == [0.3, 0.5, 0.7]
    batch = full_batch()
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits,
            model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits,
        )


def test_old_config_without_new_fields_still_loads(tmp_path):
    """A config.json written before `aspect_query` / `detection_thresholds` existed."""
    model = tiny_model(seed=0, aspects=ASPECTS, pooling="mean")
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config.pop("detection_thresholds", None)
    (tmp_path / "config.json").write_text(json.dumps(config))
    loaded = ViSoBertAbsaForAspectSentiment.from_pretrained(tmp_path)
    assert loaded.config.detection_thresholds is None and loaded.config.thresholds == [None] * len(ASPECTS)
    assert loaded.aspect_pooling is None


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"detection_thresholds": [0.5, 0.5]}, "3 entries, one per aspect: a number in (0, 1] or None"),
        ({"detection_thresholds": [0.5, 0.0, 0.5]}, "3 entries, one per aspect: a number in (0, 1] or None"),
        ({"detection_thresholds": [0.5, 0.5, 0.5], "label_scheme": "absent_as_neutral"}, "absent_as_class"),
        ({"pooling": "aspect"}, "'aspect_query'"),
        ({"aspect_query_heads": 0}, "`aspect_query_heads` got 0; allowed: a positive integer."),
        ({"aspect_query_heads": 5}, "`aspect_query_heads` got 5; allowed: a divisor of the encoder's hidden size 32."),
    ],
)
def test_bad_values_are_refused(kwargs, needle):
    with pytest.raises(ValueError, match="allowed") as error:
        ViSoBertAbsaConfig(text_config=tiny_text_config(), aspects=ASPECTS, **kwargs)
    assert needle in str(error.value)


def test_int8_onnx_export_of_a_multi_head_aspect_query_stays_close(tmp_path):
    assert_int8_close(_model(aspect_query_heads=4), tmp_path)
