"""ViSoBertAbsaConfig: defaults, validation messages, round trips, the original-design preset."""

from __future__ import annotations

import json

import pytest

from hf_visobert_absa import ViSoBertAbsaConfig
from hf_visobert_absa.hub.encoder_visobert_absa import VISOBERT_ENCODER_CONFIG
from hf_visobert_absa.hub.labels_visobert_absa import DEFAULT_ASPECTS
from tests.helpers import tiny_text_config


def test_defaults_are_the_visobert_architecture_and_11_aspects():
    config = ViSoBertAbsaConfig()
    assert config.model_type == "visobert_absa"
    assert config.text_config.model_type == "xlm-roberta"
    for key in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "layer_norm_eps"):
        assert getattr(config.text_config, key) == VISOBERT_ENCODER_CONFIG[key]
    assert config.text_config.vocab_size == 15004
    assert config.aspects == list(DEFAULT_ASPECTS) and len(config.aspects) == 11
    assert (config.label_scheme, config.pooling, config.contrastive_mode) == (
        "absent_as_class", "aspect_query", "aspect_sentiment"
    )  # fmt: skip
    assert (config.head_hidden_size, config.classifier_dropout, config.projection_dim) == (512, 0.3, 256)
    assert (config.focal_weight, config.contrastive_weight, config.focal_gamma) == (0.8, 0.2, 2.0)
    assert config.class_names == ("none", "positive", "negative", "neutral")
    assert config.num_classes == 4 and config.can_detect_aspects


def test_visobert_defaults_match_the_shared_config(shared):
    real = json.loads(shared("visobert", "config.json").read_text())
    for key, value in VISOBERT_ENCODER_CONFIG.items():
        assert real[key.replace("model_type", "model_type")] == value, key


def test_original_design_reproduces_the_original_design():
    config = ViSoBertAbsaConfig.original_design()
    assert config.label_scheme == "absent_as_neutral" and config.num_classes == 3 and not config.can_detect_aspects
    assert config.pooling == "pooler" and config.contrastive_mode == "soft_agreement"
    assert (config.focal_weight, config.contrastive_weight) == (0.8, 0.2)
    assert ViSoBertAbsaConfig.original_design(aspects=["A", "B"]).aspects == ["A", "B"]


def test_a_config_json_saved_with_the_old_seed_names_loads_as_the_original_design(tmp_path):
    """Models saved before the rename say `"seed"` for the scheme and the loss: they load with a FutureWarning
    naming the new value, mean the same, and are saved again under the new names."""
    config = ViSoBertAbsaConfig.original_design(text_config=tiny_text_config(), aspects=["Pin", "Camera"])
    config.save_pretrained(tmp_path / "new")
    saved = json.loads((tmp_path / "new" / "config.json").read_text())
    assert (saved["label_scheme"], saved["contrastive_mode"]) == ("absent_as_neutral", "soft_agreement")
    saved.update(label_scheme="seed", contrastive_mode="seed")  # what an older version wrote
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "config.json").write_text(json.dumps(saved))
    with pytest.warns(
        FutureWarning, match="`label_scheme='seed'` is a deprecated name; read as `label_scheme='absent_as_neutral'`"
    ):
        loaded = ViSoBertAbsaConfig.from_pretrained(tmp_path / "old")
    assert (loaded.label_scheme, loaded.contrastive_mode) == ("absent_as_neutral", "soft_agreement")
    assert loaded.class_names == ("positive", "negative", "neutral") and not loaded.can_detect_aspects
    assert loaded.to_dict() == ViSoBertAbsaConfig.from_pretrained(tmp_path / "new").to_dict()
    loaded.save_pretrained(tmp_path / "again")
    again = json.loads((tmp_path / "again" / "config.json").read_text())
    assert (again["label_scheme"], again["contrastive_mode"]) == ("absent_as_neutral", "soft_agreement")


def test_the_old_contrastive_mode_name_warns_and_names_the_new_one():
    with pytest.warns(FutureWarning, match="read as `contrastive_mode='soft_agreement'`"):
        config = ViSoBertAbsaConfig(text_config=tiny_text_config(), pooling="mean", contrastive_mode="seed")
    assert config.contrastive_mode == "soft_agreement"


@pytest.mark.parametrize("model_type", ["xlm-roberta", "bert"])
def test_round_trip_any_encoder_type(tmp_path, model_type, text_config):
    text_config = dict(text_config, model_type=model_type)
    config = ViSoBertAbsaConfig(
        text_config=text_config,
        aspects=["Pin", "Camera"],
        label_scheme="mentioned_only",
        pooling="mean",
        focal_alpha=[[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]],
        contrastive_mode="jaccard",
    )
    config.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["aspects"] == ["Pin", "Camera"] and saved["text_config"]["model_type"] == model_type
    loaded = ViSoBertAbsaConfig.from_pretrained(tmp_path)
    assert loaded.to_dict() == config.to_dict()
    assert loaded.text_config.hidden_size == 32


INVALID = [
    (
        {"label_scheme": "neutral"},
        "`label_scheme` got 'neutral'; allowed: 'absent_as_class', 'absent_as_neutral', 'mentioned_only'.",
    ),
    ({"pooling": "max"}, "`pooling` got 'max'; allowed: 'cls', 'mean', 'pooler', 'aspect_query', 'aspect_prompt'."),
    (
        {"contrastive_mode": "soft"},
        "`contrastive_mode` got 'soft'; allowed: 'mulsupcon', 'jaccard', 'any', 'exact', 'soft_agreement', 'aspect_sentiment'.",
    ),
    ({"aspects": []}, "`aspects` got []; allowed: a non-empty list of non-empty strings."),
    (
        {"aspects": ["A", "A"]},
        "`aspects` got ['A', 'A']; allowed: distinct names (compared after stripping spaces). Rename or remove the duplicates ['A'].",
    ),
    (
        {"aspects": ["Food ", "Food"]},
        "allowed: distinct names (compared after stripping spaces). Rename or remove the duplicates ['Food', 'Food '].",
    ),
    (
        {"aspects": ["Food", "  "]},
        "`aspects` got ['Food', '  ']; allowed: a non-empty list of non-empty strings. Name or remove the aspect(s) at position(s) [1].",
    ),
    (
        {"sentiments": []},
        "`sentiments` got []; allowed: a non-empty list of distinct (case-insensitive), non-empty names",
    ),
    ({"sentiments": ["positive", "Positive"]}, "Offending: ['Positive', 'positive']."),
    ({"sentiments": ["positive", "none"]}, "Offending: ['none']."),
    ({"sentiments": ["pos=1", "neg"]}, "Offending: ['pos=1']."),
    (
        {"sentiments": ["positive", "negative"], "label_scheme": "absent_as_neutral"},
        "allowed: a set containing 'neutral' under label_scheme='absent_as_neutral'",
    ),
    ({"head_hidden_size": 0}, "`head_hidden_size` got 0; allowed: a positive integer."),
    ({"projection_dim": 2.5}, "`projection_dim` got 2.5; allowed: a positive integer."),
    ({"classifier_dropout": 1.0}, "`classifier_dropout` got 1.0; allowed: a number in [0, 1)."),
    ({"focal_gamma": -1}, "`focal_gamma` got -1; allowed: a finite number >= 0 (0 gives cross-entropy)."),
    ({"contrastive_temperature": 0}, "`contrastive_temperature` got 0; allowed: a finite number > 0."),
    ({"focal_weight": -0.1}, "`focal_weight` got -0.1; allowed: a finite number >= 0."),
    ({"contrastive_weight": float("nan")}, "`contrastive_weight` got nan; allowed: a finite number >= 0."),
    ({"focal_weight": 0, "contrastive_weight": 0}, "`focal_weight` got 0; allowed: a positive weight for at least one"),
    ({"focal_alpha": 0.25}, "`focal_alpha` got 0.25; allowed: None, a list of 4 class weights, or 11 such lists"),
    ({"focal_alpha": [1, 2, 3]}, "Label scheme 'absent_as_class' has 4 classes."),
    ({"focal_alpha": [1, -2, 3, 4]}, "all weights finite and >= 0"),
    ({"contrastive_across_devices": "yes"}, "`contrastive_across_devices` got 'yes'; allowed: True or False."),
    ({"text_config": 3}, "text_config"),
]


@pytest.mark.parametrize(("kwargs", "message"), INVALID)
def test_invalid_values_name_field_value_and_what_is_allowed(kwargs, message):
    with pytest.raises((ValueError, TypeError)) as info:
        ViSoBertAbsaConfig(**kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "field", ["aspects", "label_scheme", "pooling", "head_hidden_size", "projection_dim", "text_config"]
)
def test_loading_a_config_without_a_model_defining_field_is_refused(tmp_path, field):
    import json

    from transformers import AutoConfig

    from hf_visobert_absa import register_auto_classes

    register_auto_classes()
    ViSoBertAbsaConfig(text_config=tiny_text_config(), aspects=["Food#Quality", "Service"]).save_pretrained(tmp_path)
    data = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    del data[field]
    (tmp_path / "config.json").write_text(json.dumps(data), encoding="utf-8")
    for load in (ViSoBertAbsaConfig.from_pretrained, AutoConfig.from_pretrained):
        with pytest.raises(ValueError, match=f"lacks '{field}'"):
            load(tmp_path)


def test_a_config_saved_before_the_sentiments_field_loads_three_way(tmp_path):
    import json

    ViSoBertAbsaConfig(text_config=tiny_text_config()).save_pretrained(tmp_path)
    data = json.loads((tmp_path / "config.json").read_text(encoding="utf-8"))
    del data["sentiments"]
    (tmp_path / "config.json").write_text(json.dumps(data), encoding="utf-8")
    assert list(ViSoBertAbsaConfig.from_pretrained(tmp_path).sentiments) == ["positive", "negative", "neutral"]
