"""`pooling="aspect_prompt"`: one learned input vector per aspect after the first token, one encoder pass."""

from __future__ import annotations

import pytest
import torch

from hf_visobert_absa import ViSoBertAbsaConfig, ViSoBertAbsaForAspectSentiment
from hf_visobert_absa.hub.pooling_visobert_absa import AspectPromptPooling
from tests.helpers import ASPECTS, assert_int8_close, full_batch, tiny_model, tiny_text_config


def _model(model_type: str = "xlm-roberta", **kwargs):
    model = tiny_model(
        seed=0, text_config=tiny_text_config(model_type), aspects=ASPECTS, pooling="aspect_prompt",
        classifier_dropout=0.0, **kwargs,
    )  # fmt: skip
    return model.eval()


def test_shapes_one_encoder_pass_and_gradients_reach_the_prompts():
    model = _model()
    calls = []
    model.encoder.register_forward_hook(lambda module, args, out: calls.append(out.last_hidden_state.shape))
    batch = full_batch()
    out = model(**batch)
    length = batch["input_ids"].shape[1]
    assert calls == [torch.Size([8, length + len(ASPECTS), 32])]  # one pass, A more positions
    assert tuple(out.logits.shape) == (8, len(ASPECTS), 4) and tuple(out.embeddings.shape) == (8, 256)
    out.loss.backward()
    assert model.aspect_prompts.prompts.grad.abs().sum() > 0


def test_each_aspect_is_read_at_its_own_prompt_position():
    """By hand: embeddings with the prompts spliced in after <s>, the encoder, the state at position 1 + a."""
    model = _model()
    batch = full_batch()
    ids, mask = batch["input_ids"], batch["attention_mask"]
    with torch.no_grad():
        words = model.encoder.get_input_embeddings()(ids)
        prompts = model.aspect_prompts.prompts.expand(ids.shape[0], -1, -1)
        embeds = torch.cat([words[:, :1], prompts, words[:, 1:]], dim=1)
        full_mask = torch.cat([mask[:, :1], torch.ones_like(mask[:, : len(ASPECTS)]), mask[:, 1:]], dim=1)
        hidden = model.encoder(inputs_embeds=embeds, attention_mask=full_mask).last_hidden_state
        vectors = hidden[:, 1 : 1 + len(ASPECTS)]
        expected = torch.stack(
            [model.classifier(vectors[:, a]).view(8, len(ASPECTS), 4)[:, a] for a in range(len(ASPECTS))], dim=1
        )
        got = model(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("model_type", ["xlm-roberta", "bert"])
def test_padding_does_not_change_the_output(model_type):
    model = _model(model_type)
    pad = model.config.text_config.pad_token_id
    ids = torch.tensor([[0, 7, 9, 11, 2]])
    padded = torch.tensor([[0, 7, 9, 11, 2, pad, pad, pad]])
    with torch.no_grad():
        short = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
        long = model(input_ids=padded, attention_mask=(padded != pad).long()).logits
    torch.testing.assert_close(short, long, rtol=1e-5, atol=1e-5)


def test_insert_keeps_masks_and_token_types_aligned():
    pooling = AspectPromptPooling(num_aspects=2, hidden_size=3)
    embeds, mask, types = pooling.insert(torch.ones(1, 3, 3), torch.tensor([[1, 1, 0]]), torch.tensor([[0, 1, 1]]))
    assert embeds.shape == (1, 5, 3) and embeds[0, 1:3].abs().sum() == 0  # zero-initialised prompts
    assert mask.tolist() == [[1, 1, 1, 1, 0]] and types.tolist() == [[0, 0, 0, 1, 1]]
    assert pooling.read(torch.arange(5.0).view(1, 5, 1)).flatten().tolist() == [1.0, 2.0]


def test_save_load_round_trip_and_the_position_budget(tmp_path):
    model = _model()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "pooling_visobert_absa.py").is_file()  # the sibling travels with the modeling file
    loaded = ViSoBertAbsaForAspectSentiment.from_pretrained(tmp_path).eval()
    batch = full_batch()
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits,
            model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits,
        )
    mean = ViSoBertAbsaConfig(text_config=tiny_text_config(), aspects=ASPECTS, pooling="mean")
    assert loaded.config.encoder_max_tokens == mean.encoder_max_tokens - len(ASPECTS)


def test_position_ids_are_refused():
    model = _model()
    with pytest.raises(ValueError, match="position_ids"):
        model(input_ids=torch.tensor([[0, 5, 2]]), position_ids=torch.tensor([[2, 3, 4]]))


def test_int8_export_reads_the_prompts(tmp_path):
    assert_int8_close(_model(), tmp_path)
