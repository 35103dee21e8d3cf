"""ViSoBertAbsaForAspectSentiment: shapes, pooling, the one objective, encoder loading, gradient checkpointing, sdpa."""

from __future__ import annotations

import pytest
import torch

from hf_visobert_absa import ViSoBertAbsaConfig, ViSoBertAbsaForAspectSentiment, compute_absa_loss
from tests.helpers import tiny_model, tiny_text_config


def _batch(batch=4, length=9, vocab=128, seed=0):
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (batch, length), generator=generator)
    mask = torch.ones_like(ids)
    mask[0, -3:] = 0
    ids[0, -3:] = 1
    return ids, mask


def test_default_and_original_design_shapes_and_unit_norm_embeddings():
    ids, mask = _batch()
    out = tiny_model()(input_ids=ids, attention_mask=mask)
    assert tuple(out.logits.shape) == (4, 11, 4)
    assert tuple(out.embeddings.shape) == (4, 256)
    assert torch.allclose(out.embeddings.norm(dim=-1), torch.ones(4), atol=1e-6)
    assert out.loss is None and out.focal_loss is None
    original = ViSoBertAbsaForAspectSentiment(ViSoBertAbsaConfig.original_design(text_config=tiny_text_config()))
    assert tuple(original(input_ids=ids, attention_mask=mask).logits.shape) == (4, 11, 3)
    assert original.pooler is not None


def test_heads_follow_the_design():
    model = tiny_model(aspects=["a", "b", "c"], projection_dim=16, head_hidden_size=24)
    head = model.classifier
    assert [type(m).__name__ for m in head.children()] == ["Linear", "ReLU", "Dropout", "Linear"]
    assert head.dense.out_features == 24 and head.dropout.p == 0.3 and head.out_proj.out_features == 3 * 4
    assert model.projection.dense.out_features == 16
    assert not any("pooler" in name for name, _ in model.encoder.named_parameters())


@pytest.mark.parametrize("pooling", ["cls", "mean", "pooler"])
def test_pooling_ignores_padding(pooling):
    model = tiny_model(pooling=pooling).eval()
    ids = torch.tensor([[0, 7, 8, 9, 2]])
    padded = torch.tensor([[0, 7, 8, 9, 2, 1, 1]])
    a = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    b = model(input_ids=padded, attention_mask=torch.tensor([[1, 1, 1, 1, 1, 0, 0]])).logits
    assert torch.allclose(a, b, atol=1e-5)


def test_forward_loss_is_the_one_combined_objective():
    model = tiny_model(seed=1)
    ids, mask = _batch(seed=1)
    labels = torch.randint(0, 4, (4, 11), generator=torch.Generator().manual_seed(2))
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    assert torch.allclose(out.loss, 0.8 * out.focal_loss + 0.2 * out.contrastive_loss)
    loss, focal, contrastive = compute_absa_loss(
        out.logits, out.embeddings, labels, model.config, aspect_embeddings=out.aspect_embeddings
    )
    assert torch.equal(loss, out.loss) and torch.equal(focal, out.focal_loss)
    out.loss.backward()
    assert all(p.grad is not None for p in model.classifier.parameters())
    assert all(p.grad is not None for p in model.projection.parameters())


def test_absent_aspects_are_absent_for_the_contrastive_term():
    """Under absent_as_class the "none" class (0) must not make two reviews positives of each other."""
    model = tiny_model()
    ids, mask = _batch()
    out = model(input_ids=ids, attention_mask=mask)
    all_none = torch.zeros(4, 11, dtype=torch.long)
    _, _, contrastive = compute_absa_loss(
        out.logits, out.embeddings, all_none, model.config, aspect_embeddings=out.aspect_embeddings
    )
    assert contrastive.item() == 0.0


def test_return_dict_false_hidden_states_and_attentions():
    model = tiny_model().eval()
    ids, mask = _batch()
    out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
    assert len(out.hidden_states) == 3
    model.config._attn_implementation  # noqa: B018 - exists on every config
    as_tuple = model(input_ids=ids, attention_mask=mask, return_dict=False)
    assert isinstance(as_tuple, tuple) and torch.equal(as_tuple[0], out.logits)


def test_gradient_checkpointing_and_sdpa_give_the_same_gradients():
    ids, mask = _batch()
    labels = torch.randint(0, 4, (4, 11), generator=torch.Generator().manual_seed(3))
    grads = []
    for checkpointing, attn in ((False, "eager"), (True, "sdpa")):
        model = ViSoBertAbsaForAspectSentiment._from_config(
            ViSoBertAbsaConfig(text_config=tiny_text_config(), classifier_dropout=0.0), attn_implementation=attn
        )
        torch.manual_seed(0)
        model.load_state_dict(tiny_model(seed=0, classifier_dropout=0.0).state_dict())
        if checkpointing:
            enable = getattr(model, "activation_checkpointing_enable", None) or model.gradient_checkpointing_enable
            enable()
            assert any(getattr(m, "gradient_checkpointing", False) for m in model.modules())
        model.train()
        model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
        grads.append(model.encoder.embeddings.word_embeddings.weight.grad.clone())
    assert torch.allclose(grads[0], grads[1], atol=1e-5)


# ------------------------------------------------------------------------------- from_pretrained_encoder


def _save_encoder(kind: str, path):
    from transformers import BertModel, XLMRobertaConfig, XLMRobertaForMaskedLM, XLMRobertaModel

    torch.manual_seed(11)
    if kind == "mlm":
        model = XLMRobertaForMaskedLM(
            XLMRobertaConfig(**{k: v for k, v in tiny_text_config().items() if k != "model_type"})
        )
    elif kind == "bare":
        model = XLMRobertaModel(XLMRobertaConfig(**{k: v for k, v in tiny_text_config().items() if k != "model_type"}))
    else:
        from transformers import BertConfig

        model = BertModel(BertConfig(**{k: v for k, v in tiny_text_config("bert").items() if k != "model_type"}))
    model.save_pretrained(path)
    return model


@pytest.mark.parametrize("kind", ["mlm", "bare", "bert"])
def test_from_pretrained_encoder_copies_every_encoder_weight(tmp_path, kind):
    source = _save_encoder(kind, tmp_path)
    state = source.roberta.state_dict() if kind == "mlm" else source.state_dict()
    with open(tmp_path / "model.safetensors", "rb") as handle:
        assert handle.read(8)
    model = ViSoBertAbsaForAspectSentiment.from_pretrained_encoder(str(tmp_path), aspects=["Pin", "Camera"])
    encoder_state = model.encoder.state_dict()
    compared = 0
    for key, value in encoder_state.items():
        if key in state:
            assert torch.equal(value, state[key]), key
            compared += 1
    assert compared == len(encoder_state)
    assert model.config.aspects == ["Pin", "Camera"] and model.config.base_model_name_or_path == f"./{tmp_path.name}"
    assert "architectures" not in model.config.text_config.to_dict() or not model.config.text_config.architectures
    assert model.training


def test_from_pretrained_encoder_fails_loudly_on_an_incompatible_checkpoint(tmp_path):
    from safetensors.torch import save_file

    (tmp_path / "config.json").write_text(
        ViSoBertAbsaConfig(text_config=tiny_text_config()).text_config.to_json_string()
    )
    save_file({"classifier.weight": torch.zeros(2, 32)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(
        ValueError, match=r"does not hold the weights of a xlm-roberta encoder: \d+ encoder weights are missing"
    ):
        ViSoBertAbsaForAspectSentiment.from_pretrained_encoder(str(tmp_path))


def test_from_pretrained_encoder_rejects_an_absa_model(tmp_path):
    tiny_model().save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"is already a visobert_absa model, not an encoder"):
        ViSoBertAbsaForAspectSentiment.from_pretrained_encoder(str(tmp_path))


# --------------------------------------------------------------------------------------------------------------
# Named heads (checkpoints with the older `nn.Sequential` head keys are not read: none was published)
# --------------------------------------------------------------------------------------------------------------


def test_heads_are_named_modules_and_the_prefix_names_the_encoder():
    from hf_visobert_absa.hub.heads_visobert_absa import (
        ViSoBertAbsaClassificationHead,
        ViSoBertAbsaPooler,
        ViSoBertAbsaProjectionHead,
    )

    model = tiny_model(0, pooling="pooler")
    assert isinstance(model.classifier, ViSoBertAbsaClassificationHead)
    assert isinstance(model.projection, ViSoBertAbsaProjectionHead)
    assert isinstance(model.pooler, ViSoBertAbsaPooler)
    assert model.base_model_prefix == "encoder" and model.base_model is model.encoder


def test_a_local_encoder_is_recorded_by_the_hub_id_its_card_names_never_by_its_path(tmp_path):
    from hf_visobert_absa.hub.encoder_visobert_absa import encoder_name

    folder = tmp_path / "model"
    folder.mkdir()
    assert encoder_name(folder) == "./model" and encoder_name("uitnlp/visobert") == "uitnlp/visobert"
    (folder / "README.md").write_text(
        "# all-MiniLM-L6-v2\n```python\nm = AutoModel.from_pretrained('sentence-transformers/all-MiniLM-L6-v2')\n```\n"
    )
    assert encoder_name(folder) == "sentence-transformers/all-MiniLM-L6-v2"
