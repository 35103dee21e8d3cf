"""The label space of an aspect-sentiment model: aspect names, sentiment names, label schemes, flat labels.

This file travels to the Hugging Face Hub next to the weights (a sibling of the configuration): it imports
only the standard library.
"""

from __future__ import annotations

import warnings
from typing import Any

#: The 11 aspects of the smartphone review data the original design was built on.
DEFAULT_ASPECTS: tuple[str, ...] = (
    "Battery",
    "Camera",
    "Performance",
    "Display",
    "Design",
    "Packaging",
    "Price",
    "Shop_Service",
    "Shipping",
    "General",
    "Others",
)

#: The default sentiments (the config's `sentiments` when none are given), in class order.
SENTIMENTS: tuple[str, ...] = ("positive", "negative", "neutral")

#: The class of a not-mentioned aspect (`absent_as_class` only); no sentiment may take this name.
NONE_CLASS = "none"

#: Separator of the flat, text-classification-style labels `f"{aspect}{FLAT_LABEL_SEPARATOR}{sentiment}"`.
#: Aspect names may contain it (or anything else); sentiment names may not, so `label.rpartition("=")` always
#: splits a flat label correctly. The pipeline's flat output also carries `aspect` and `sentiment` keys, so
#: nothing ever needs to parse a label.
FLAT_LABEL_SEPARATOR = "="

#: Class names per aspect for each label scheme with the default sentiments (see [`scheme_class_names`]).
#: - ``absent_as_class``: "none" is a class, so the model says which aspects a review mentions.
#: - ``absent_as_neutral``: the original design; a not-mentioned aspect is trained and scored as "neutral".
#: - ``mentioned_only``: the sentiments only; not-mentioned aspects carry -100 and are ignored by the loss.
LABEL_SCHEMES: dict[str, tuple[str, ...]] = {
    "absent_as_class": (NONE_CLASS,) + SENTIMENTS,
    "absent_as_neutral": SENTIMENTS,
    "mentioned_only": SENTIMENTS,
}

#: Label schemes under the names older versions saved (`config.json`) or took (YAML, flags), mapped to today's:
#: read with a `FutureWarning`, never written.
RENAMED_LABEL_SCHEMES: dict[str, str] = {"seed": "absent_as_neutral"}


def current_name(field: str, value: Any, renamed: dict[str, str]) -> Any:
    """`value` under today's name: an old name of `renamed` becomes the new one, with a `FutureWarning` naming it;
    any other value is returned as it is (for validation to judge).

    Example:

    ```python
    >>> current_name("label_scheme", "seed", RENAMED_LABEL_SCHEMES)  # warns
    'absent_as_neutral'
    ```
    """
    if not isinstance(value, str) or value not in renamed:
        return value
    warnings.warn(
        f"`{field}={value!r}` is a deprecated name; read as `{field}={renamed[value]!r}`. Write "
        f"{renamed[value]!r} instead (saving a model again writes the new name).",
        FutureWarning,
        stacklevel=3,
    )
    return renamed[value]


def scheme_detects_aspects(label_scheme: str) -> bool:
    """Whether a model trained with `label_scheme` can say which aspects a review mentions: only
    `absent_as_class` has a "none" class (see `ViSoBertAbsaConfig.can_detect_aspects`)."""
    return label_scheme == "absent_as_class"


def scheme_class_names(label_scheme: str, sentiments: tuple[str, ...] | list[str] | None = None) -> tuple[str, ...]:
    """The classes of every aspect, in logit order, for `label_scheme` and the sentiment set `sentiments`
    (default [`SENTIMENTS`]): `("none", *sentiments)` under `absent_as_class`, else `sentiments`.

    Example:

    ```python
    >>> scheme_class_names("absent_as_class", ["positive", "negative", "neutral", "conflict"])
    ('none', 'positive', 'negative', 'neutral', 'conflict')
    ```
    """
    if label_scheme not in LABEL_SCHEMES:
        raise ValueError(f"`label_scheme` got {label_scheme!r}; allowed: {', '.join(map(repr, LABEL_SCHEMES))}.")
    names = tuple(sentiments) if sentiments is not None else SENTIMENTS
    return ((NONE_CLASS,) + names) if scheme_detects_aspects(label_scheme) else names


def flat_label(aspect: str, sentiment: str) -> str:
    """The flat, text-classification-style label of an (aspect, sentiment) pair: `"FOOD#QUALITY=positive"`."""
    return f"{aspect}{FLAT_LABEL_SEPARATOR}{sentiment}"


def flat_labels(aspects: list[str], sentiments: list[str] | tuple[str, ...]) -> list[str]:
    """Every (aspect, sentiment) flat label, aspect-major: the labels of the text-classification view, in the order
    of its logits (`ViSoBertAbsaForSequenceClassification`)."""
    return [flat_label(aspect, sentiment) for aspect in aspects for sentiment in sentiments]


def reject_value(field: str, value: Any, allowed: str, fix: str = "") -> None:
    """Raise the one-line `ValueError` every config rule uses: the field, its value, what is allowed, how to fix."""
    message = f"`{field}` got {value!r}; allowed: {allowed}."
    if fix:
        message += f" {fix}"
    raise ValueError(message)


def validate_aspects(aspects: Any) -> None:
    """Any names are allowed (`FOOD#QUALITY`, `anecdotes/miscellaneous`, `Pin & sạc`) except empty ones and
    names equal after stripping surrounding spaces.

    Raises:
        ValueError: naming the list, what is allowed and the names at fault.
    """
    if not isinstance(aspects, list) or not aspects or not all(isinstance(a, str) and a.strip() for a in aspects):
        empty = (
            [i for i, a in enumerate(aspects) if not (isinstance(a, str) and a.strip())]
            if isinstance(aspects, list)
            else []
        )
        reject_value(
            "aspects",
            aspects,
            "a non-empty list of non-empty strings",
            f"Name or remove the aspect(s) at position(s) {empty}." if empty else "",
        )
    stripped = [a.strip() for a in aspects]
    dupes = sorted({a for a in aspects if stripped.count(a.strip()) > 1})
    if dupes:
        reject_value(
            "aspects",
            aspects,
            "distinct names (compared after stripping spaces)",
            f"Rename or remove the duplicates {dupes}.",
        )


def validate_sentiments(sentiments: Any, label_scheme: str = "absent_as_class") -> None:
    """Refuse a sentiment set no model can use (see the `sentiments` argument of [`ViSoBertAbsaConfig`]).

    Raises:
        ValueError: naming the value, what is allowed and the names at fault.
    """
    allowed = (
        f"a non-empty list of distinct (case-insensitive), non-empty names other than {NONE_CLASS!r} and without "
        f"{FLAT_LABEL_SEPARATOR!r}, e.g. {list(SENTIMENTS)} or {list(SENTIMENTS) + ['conflict']}"
    )
    if (
        not isinstance(sentiments, list)
        or not sentiments
        or not all(isinstance(s, str) and s.strip() for s in sentiments)
    ):
        reject_value("sentiments", sentiments, allowed)
    keys = [s.strip().lower() for s in sentiments]
    bad = [s for s in sentiments if s.strip().lower() == NONE_CLASS or FLAT_LABEL_SEPARATOR in s or s != s.strip()]
    if len(set(keys)) != len(keys) or bad:
        reject_value(
            "sentiments",
            sentiments,
            allowed,
            f"Offending: {bad or sorted({s for s in sentiments if keys.count(s.strip().lower()) > 1})}.",
        )
    if label_scheme == "absent_as_neutral" and "neutral" not in keys:
        reject_value(
            "sentiments",
            sentiments,
            "a set containing 'neutral' under label_scheme='absent_as_neutral' (it labels not-mentioned aspects "
            "neutral)",
            "Add 'neutral', or use label_scheme='absent_as_class'.",
        )


__all__ = [
    "DEFAULT_ASPECTS",
    "FLAT_LABEL_SEPARATOR",
    "LABEL_SCHEMES",
    "NONE_CLASS",
    "RENAMED_LABEL_SCHEMES",
    "SENTIMENTS",
    "current_name",
    "flat_label",
    "flat_labels",
    "reject_value",
    "scheme_class_names",
    "scheme_detects_aspects",
    "validate_aspects",
    "validate_sentiments",
]
