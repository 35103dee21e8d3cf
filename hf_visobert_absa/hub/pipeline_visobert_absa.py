"""`aspect-sentiment-analysis`: the inference pipeline of the ViSoBERT aspect-sentiment model.

    text -> tokenizer -> one window (or overlapping windows) of token ids [1, L]
         -> model -> logits [W, A, C] -> softmax -> one distribution per aspect [A, C]
         -> mentioned aspects [{"aspect", "sentiment", "score"}, ...]

This file travels to the Hugging Face Hub next to the weights (`custom_pipelines` in `config.json`), so
`pipeline(model=<repo>, trust_remote_code=True)` works without this package: it imports only the standard
library, `torch`, public `transformers` names and its siblings by `from .sibling import X`. Nothing is
registered at import time; [`register_pipeline`] registers the task in the current process.

References:
    - Nguyen et al., "ViSoBERT: A Pre-Trained Language Model for Vietnamese Social Media Text Processing",
      EMNLP 2023, arXiv:2310.11166.
"""

from __future__ import annotations

import itertools
import logging
import types
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from transformers import AutoModel, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY

from .decision_visobert_absa import mentioned_mask
from .evidence_visobert_absa import top_words, word_scores, word_spans
from .labels_visobert_absa import NONE_CLASS, flat_label, scheme_class_names
from .tasks_visobert_absa import ABSA_TASK
from .windows_visobert_absa import TextWindowsMixin, check_text, checked_stream, max_length_problem

logger = logging.getLogger(__name__)

#: The task name the pipeline is registered and saved under.
TASK = ABSA_TASK
OUTPUT_FORMATS = ("aspects", "flat")
LONG_TEXT_MODES = ("truncate", "chunk")
CHUNK_AGGREGATIONS = ("max", "mean")
_UNSET = object()
#: Texts of a list or dataset tokenised, scored and post-processed together by the batched path.
_BATCHED_CHUNK = 4096
#: The call arguments (also accepted by the constructor as defaults).
CALL_ARGUMENTS = (
    "threshold", "top_k", "return_all_aspects", "output_format", "long_text", "max_length", "stride",
    "chunk_aggregation", "return_evidence", "evidence_top_k", "evidence_method",
)  # fmt: skip
#: The evidence method of the model's own aspect attention (`pooling="aspect_query"`).
ATTENTION_EVIDENCE = "attention"


class AspectSentimentPipeline(TextWindowsMixin, Pipeline):
    r"""Aspect-based sentiment analysis: which aspects a review mentions, and the sentiment of each.

    Load it with `pipeline("aspect-sentiment-analysis", model=..., trust_remote_code=True)` (or just
    `pipeline(model=..., trust_remote_code=True)`: the exported `config.json` names this pipeline).

    Call arguments (also accepted by the constructor as defaults):
        threshold (`float`, `dict[str, float | None]` or `None`, defaults to the model's `detection_thresholds`):
            by default an aspect counts as mentioned when some sentiment is more probable than "none" (argmax; the
            model's calibrated thresholds where it has them); a number: when its probability of "none" is below it;
            a dict sets it per aspect (unnamed aspects keep the model's rule, None = argmax); `None` = argmax for
            every aspect. Only for models trained with `label_scheme="absent_as_class"`.
        top_k (`int` or `None`, defaults to 1):
            text-classification's meaning, per aspect: with 1 each aspect carries its decision only
            (`sentiment`, `score`); with `k > 1` each aspect also lists its `k` most probable classes under
            `labels` (best first); `None` lists all classes.
        return_all_aspects (`bool`, defaults to `False`):
            report every aspect, not only the mentioned ones, each with `mentioned` and its full distribution
            under `probabilities`. Not-mentioned aspects carry `sentiment="none"` and `score=P(none)`.
        output_format (`str`, defaults to `"aspects"`):
            `"aspects"` returns `[{"aspect", "sentiment", "score", ...}]` in the model's aspect order;
            `"flat"` returns text-classification-style `[{"label": "Battery=negative", "aspect": "Battery",
            "sentiment": "negative", "score": ...}]`, best first. The label joins aspect and sentiment with
            `FLAT_LABEL_SEPARATOR` (`"="`); aspect names may contain any character, sentiment names never
            contain `"="`, so read the structured `aspect` / `sentiment` keys (or `label.rpartition("=")`).
        long_text (`str`, defaults to `"truncate"`):
            `"truncate"` reads the first `max_length` tokens (a warning says when a text was cut);
            `"chunk"` scores overlapping windows of `max_length` tokens (cut from the text's token ids, the
            special tokens added to each) and aggregates them per aspect.
        max_length (`int`, *optional*): window length in tokens, special tokens included. Defaults to the
            tokenizer's `model_max_length`, capped by the encoder's position embeddings (512 for ViSoBERT).
        stride (`int`, *optional*): with `long_text="chunk"`, the tokens shared by consecutive windows
            (defaults to a quarter of the window).
        chunk_aggregation (`str`, defaults to `"max"`): how windows combine per aspect. `"max"` keeps, per
            aspect, the distribution of the window that mentions the aspect most clearly (lowest P(none); with
            no "none" class, the most confident window); `"mean"` averages the windows' distributions.
        return_evidence (`bool`, defaults to `False`): add to each reported aspect its `evidence`, the words the
            prediction rests on, best first: `[{"word", "start", "end", "weight"}]` with `text[start:end] == word`
            in the ORIGINAL text (from the window that mentions the aspect most clearly). Off: outputs and speed
            are unchanged.
        evidence_top_k (`int`, defaults to 3): evidence words per aspect.
        evidence_method (defaults to `"attention"`): `"attention"`, the model's own aspect attention (one pass;
            needs `pooling="aspect_query"`), or a token scorer for any pooling such as
            `hf_visobert_absa.integrated_gradients` (the package's `[attribution]` extra).

    Scores are the model's softmax probabilities over all classes of an aspect (so a mentioned aspect's
    `score` is P(sentiment), not renormalised over the sentiments). Models trained with the `absent_as_neutral` or
    `mentioned_only` label scheme cannot say whether an aspect is mentioned: every aspect is returned, with
    `mentioned=None` under `return_all_aspects`.

    Raises:
        ValueError: an input is empty, `None` or not a string (the message names its index), or an argument
            has a value that is not allowed.

    Example:

    ```python
    >>> from transformers import pipeline
    >>> absa = pipeline("aspect-sentiment-analysis", model="path/to/exported", trust_remote_code=True)
    >>> absa("Pin trâu, camera chụp đẹp nhưng giao hàng chậm.")
    [{'aspect': 'Battery', 'sentiment': 'positive', 'score': ...}, ...]
    ```
    """

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_video_processor = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        #: What the constructor was given: the defaults of every call on the batched path.
        self.default_batch_size = kwargs.get("batch_size")
        self.default_arguments = {name: kwargs[name] for name in CALL_ARGUMENTS if name in kwargs}
        super().__init__(*args, **kwargs)
        if self.tokenizer is None:
            raise ValueError(
                "`AspectSentimentPipeline` needs a tokenizer: pass `tokenizer=` or a model folder with one."
            )
        self.model.eval()
        self._warned_truncation = False

    # ------------------------------------------------------------------ label scheme, read from the config
    @property
    def aspects(self) -> list[str]:
        """The model's aspect names, in output order (from `model.config.aspects`)."""
        return list(self.model.config.aspects)

    @property
    def class_names(self) -> tuple[str, ...]:
        """The classes of every aspect, in logit order (from the config's `label_scheme` and `sentiments`)."""
        config = self.model.config
        return scheme_class_names(config.label_scheme, getattr(config, "sentiments", None))

    @property
    def can_detect(self) -> bool:
        """Whether the model says if an aspect is mentioned (its label scheme has a "none" class)."""
        return self.model.config.can_detect_aspects

    # ------------------------------------------------------------------ inputs
    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """Label one text (returns a list of aspect dicts), a list of texts (a list of such lists), or a
        generator / `KeyDataset` (an iterator of such lists). See the class docstring for the arguments.

        Lists and map-style datasets (`KeyDataset`) take the batched path: the texts are tokenised in one call
        of the (fast) tokenizer, their windows sorted by length so each batch pads only to its own longest,
        post-processed as tensors, and the results returned in input order. Generators stream one review at a
        time through the standard pipeline machinery (their length is unknown)."""
        batch_size = kwargs.get("batch_size")
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            raise ValueError(f"`batch_size` got {batch_size!r}; allowed: a positive integer.")
        if args:
            raise TypeError("Pass the pipeline's arguments by name, e.g. `absa(texts, threshold=0.5)`.")
        if isinstance(inputs, (list, tuple)):
            if not inputs:
                return []
            return list(self._batched([check_text(item, index) for index, item in enumerate(inputs)], kwargs))
        if isinstance(inputs, str) or inputs is None or isinstance(inputs, (bytes, int, float, dict)):
            if kwargs.get("return_evidence"):  # evidence is assembled on the batched path only
                return next(self._batched([check_text(inputs, 0)], kwargs))
            return super().__call__(check_text(inputs, 0), **kwargs)
        if isinstance(inputs, torch.utils.data.Dataset) and hasattr(inputs, "__len__"):
            return self._batched(inputs, kwargs)
        if isinstance(inputs, (types.GeneratorType, torch.utils.data.Dataset, Iterable)):
            return self._streamed(checked_stream(inputs), kwargs)
        check_text(inputs, 0)
        return None

    def _streamed(self, texts: Iterator[str], kwargs: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """A stream of unknown length: the batched path over successive slices of `_BATCHED_CHUNK` texts."""
        while True:
            part = list(itertools.islice(texts, _BATCHED_CHUNK))
            if not part:
                return
            yield from self._batched(part, dict(kwargs))

    def _batched(self, texts: Any, kwargs: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """The batched path for a list or a map-style dataset: arguments checked now, results streamed in
        input order, `_BATCHED_CHUNK` texts (at least 16 batches) at a time."""
        batch_size = kwargs.pop("batch_size", None) or self.default_batch_size or 1
        kwargs.pop("num_workers", None)
        preprocess, _, postprocess = self._sanitize_parameters(**{**self.default_arguments, **kwargs})
        how = postprocess.pop("chunk_aggregation", "max")
        evidence = {
            key: postprocess.pop(key)
            for key in ("return_evidence", "evidence_top_k", "evidence_method")
            if key in postprocess
        }
        with_evidence = evidence.get("return_evidence", False)
        if with_evidence and evidence.get("evidence_method", ATTENTION_EVIDENCE) == ATTENTION_EVIDENCE:
            self._check_attention_evidence()
        chunk = max(_BATCHED_CHUNK, 16 * batch_size)

        def stream() -> Iterator[list[dict[str, Any]]]:
            for start in range(0, len(texts), chunk):
                part = [check_text(texts[i], i) for i in range(start, min(start + chunk, len(texts)))]
                windows, counts, offsets = self._tokenize_many(part, **preprocess, with_offsets=with_evidence)
                if not with_evidence:
                    probabilities = self._forward_sorted(windows, batch_size)  # [W, A, C]
                    yield from self._entries(self._aggregate_many(probabilities, counts, how), **postprocess)
                    continue
                method = evidence.get("evidence_method", ATTENTION_EVIDENCE)
                probabilities, scores = self._scored_windows(windows, batch_size, method)
                found = self._evidence(part, offsets, counts, probabilities, scores, evidence.get("evidence_top_k", 3))
                distributions = self._aggregate_many(probabilities, counts, how)
                yield from self._entries(distributions, **postprocess, evidence=found)

        return stream()

    def _sanitize_parameters(
        self,
        threshold: Any = _UNSET,
        top_k: Any = _UNSET,
        return_all_aspects: bool | None = None,
        output_format: str | None = None,
        long_text: str | None = None,
        max_length: int | None = None,
        stride: int | None = None,
        chunk_aggregation: str | None = None,
        return_evidence: bool | None = None,
        evidence_top_k: int | None = None,
        evidence_method: Any = None,
    ) -> tuple[dict, dict, dict]:
        preprocess: dict[str, Any] = {}
        postprocess = self._evidence_parameters(return_evidence, evidence_top_k, evidence_method)
        if long_text is not None:
            if long_text not in LONG_TEXT_MODES:
                raise ValueError(f"`long_text` got {long_text!r}; allowed: 'truncate' (default), 'chunk'.")
            preprocess["long_text"] = long_text
        if max_length is not None:
            problem = max_length_problem(max_length)
            if problem is not None:
                raise ValueError(problem)
            self._window_length(max_length)  # beyond the encoder's positions: refused here, before any text
            preprocess["max_length"] = max_length
        if stride is not None:
            if isinstance(stride, bool) or not isinstance(stride, int) or stride < 0:
                raise ValueError(f"`stride` got {stride!r}; allowed: an integer >= 0 (tokens shared by windows).")
            preprocess["stride"] = stride
        if threshold is not _UNSET:
            postprocess["threshold"] = self._check_threshold(threshold)
        if top_k is not _UNSET:
            if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
                raise ValueError(f"`top_k` got {top_k!r}; allowed: a positive integer, or None for all classes.")
            postprocess["top_k"] = top_k
        if return_all_aspects is not None:
            postprocess["return_all_aspects"] = bool(return_all_aspects)
        if output_format is not None:
            if output_format not in OUTPUT_FORMATS:
                raise ValueError(f"`output_format` got {output_format!r}; allowed: 'aspects' (default), 'flat'.")
            postprocess["output_format"] = output_format
        if chunk_aggregation is not None:
            if chunk_aggregation not in CHUNK_AGGREGATIONS:
                raise ValueError(f"`chunk_aggregation` got {chunk_aggregation!r}; allowed: 'max' (default), 'mean'.")
            postprocess["chunk_aggregation"] = chunk_aggregation
        return preprocess, {}, postprocess

    def _evidence_parameters(self, return_evidence: Any, top_k: Any, method: Any) -> dict[str, Any]:
        """The evidence arguments, checked (see the class docstring)."""
        chosen: dict[str, Any] = {}
        if return_evidence is not None:
            chosen["return_evidence"] = bool(return_evidence)
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
                raise ValueError(f"`evidence_top_k` got {top_k!r}; allowed: a positive integer (words per aspect).")
            chosen["evidence_top_k"] = top_k
        if method is not None:
            if method != ATTENTION_EVIDENCE and not callable(method):
                raise ValueError(
                    f"`evidence_method` got {method!r}; allowed: 'attention' (the model's aspect attention) or a "
                    "token scorer such as `hf_visobert_absa.integrated_gradients`."
                )
            chosen["evidence_method"] = method
        return chosen

    def _check_attention_evidence(self) -> None:
        if self.model.config.pooling != "aspect_query":
            raise ValueError(
                f"`evidence_method='attention'` needs pooling='aspect_query'; this model uses "
                f"{self.model.config.pooling!r}. Pass evidence_method=hf_visobert_absa.integrated_gradients "
                "(pip install 'hf-visobert-absa[attribution]')."
            )

    def _config_thresholds(self) -> dict[str, float | None]:
        """The model's own per-aspect thresholds (`config.detection_thresholds`, e.g. calibrated on validation at
        training time); None = the default rule (argmax)."""
        stored = getattr(self.model.config, "detection_thresholds", None) or [None] * len(self.aspects)
        return dict(zip(self.aspects, (None if t is None else float(t) for t in stored), strict=True))

    def _check_threshold(self, threshold: Any) -> dict[str, float | None]:
        """A number or a per-aspect dict -> one threshold per aspect name."""
        if not self.can_detect:
            raise ValueError(
                f"`threshold` needs a model trained with label_scheme='absent_as_class'; this model uses "
                f"{self.model.config.label_scheme!r}, which cannot say whether an aspect is mentioned (every aspect "
                "is returned). Drop `threshold`."
            )
        allowed = "None (argmax), a number in [0, 1], or a dict {aspect: number in [0, 1] or None}"
        if threshold is None:
            return {name: None for name in self.aspects}

        def number(value: Any, name: str) -> float | None:
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"`threshold` got {value!r} for {name}; allowed: {allowed}.")
            return float(value)

        if isinstance(threshold, dict):
            unknown = [name for name in threshold if name not in self.aspects]
            if unknown:
                raise ValueError(
                    f"`threshold` names unknown aspects {unknown}; this model's aspects are {self.aspects}."
                )
            per_aspect = self._config_thresholds()
            per_aspect.update({name: number(value, repr(name)) for name, value in threshold.items()})
            return per_aspect
        value = number(threshold, "every aspect")
        return {name: value for name in self.aspects}

    def preprocess(
        self, text: str, long_text: str = "truncate", max_length: int | None = None, stride: int | None = None
    ) -> dict[str, torch.Tensor]:
        """One text -> its windows, padded on the right to the longest: `input_ids` and `attention_mask` `[W, L]`."""
        windows, _, _ = self._tokenize_many([text], long_text=long_text, max_length=max_length, stride=stride)
        longest = max(len(window) for window in windows)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        rows = [window + [pad] * (longest - len(window)) for window in windows]
        masks = [[1] * len(window) + [0] * (longest - len(window)) for window in windows]
        return {
            "input_ids": torch.tensor(rows, dtype=torch.long),
            "attention_mask": torch.tensor(masks, dtype=torch.long),
        }

    def _warn_truncation(self, num_tokens: int, window: int) -> None:
        level = logging.DEBUG if self._warned_truncation else logging.WARNING
        logger.log(
            level,
            "A text of %d tokens is longer than the model's window of %d tokens and was truncated. "
            "Pass long_text='chunk' to score overlapping windows and aggregate them per aspect.",
            num_tokens,
            window,
        )
        self._warned_truncation = True

    # ------------------------------------------------------------------ model
    def _forward(self, model_inputs: dict[str, Any]) -> dict[str, Any]:
        outputs = self.model(input_ids=model_inputs["input_ids"], attention_mask=model_inputs["attention_mask"])
        return {"logits": outputs.logits}  # [W, A, C]: the windows of one text

    # ------------------------------------------------------------------ outputs
    def _forward_sorted(self, windows: list[list[int]], batch_size: int, with_attention: bool = False) -> Any:
        """Softmax distributions `[W, A, C]` (float32, on the CPU) of `windows`, in their order: the windows are
        run longest first, `batch_size` at a time, each batch padded to its own longest window. With
        `with_attention`, also each window's aspect attention over its tokens (`[A, len(window)]` each), from the
        same pass."""
        config = self.model.config
        probabilities = torch.empty(len(windows), config.num_aspects, config.num_classes)  # [W, A, C]
        attention: list[Any] = [None] * len(windows)
        with self.device_placement(), torch.inference_mode():
            for index, input_ids, attention_mask in self._padded_batches(windows, batch_size):
                if with_attention:
                    logits, weights = self.model.logits_and_token_weights(input_ids, attention_mask)
                    for row, i in enumerate(index):
                        attention[i] = weights[row, :, : len(windows[i])].float().cpu()  # [A, L_i]
                else:
                    logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits  # [B, A, C]
                probabilities[torch.tensor(index)] = logits.float().softmax(dim=-1).cpu()
        return (probabilities, attention) if with_attention else probabilities

    def _padded_batches(self, windows: list[list[int]], batch_size: int) -> Iterator[tuple[list[int], Any, Any]]:
        """(window indices, `input_ids` `[B, L]`, `attention_mask` `[B, L]`) per batch, longest windows first."""
        order = sorted(range(len(windows)), key=lambda i: -len(windows[i]))  # stable: ties keep input order
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        # Padded on the right whatever the tokenizer's `padding_side`: the model may pool the first token.
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            longest = len(windows[index[0]])
            rows = [windows[i] + [pad] * (longest - len(windows[i])) for i in index]
            masks = [[1] * len(windows[i]) + [0] * (longest - len(windows[i])) for i in index]
            yield index, torch.tensor(rows, device=self.device), torch.tensor(masks, device=self.device)

    def _scored_windows(self, windows: list[list[int]], batch_size: int, method: Any) -> tuple[torch.Tensor, list]:
        """(distributions `[W, A, C]`, each window's token scores `[A, len(window)]`): the model's aspect attention
        (one pass), or a token scorer `method(model, input_ids, attention_mask, targets)` -> `[B, A, L]` scores of
        each aspect's predicted sentiment (`targets` `[B, A]`: its class index; -1 where the window does not
        mention the aspect, which then has no evidence)."""
        if method == ATTENTION_EVIDENCE:
            return self._forward_sorted(windows, batch_size, with_attention=True)
        probabilities = self._forward_sorted(windows, batch_size)
        first = 1 if self.can_detect else 0
        targets = probabilities[..., first:].argmax(dim=-1) + first  # [W, A]: each aspect's best sentiment
        if self.can_detect:  # aspects a window does not mention are not scored (-1)
            limits = self._config_thresholds()
            targets = torch.where(mentioned_mask(probabilities, [limits[a] for a in self.aspects]), targets, -1)
        scores: list[Any] = [None] * len(windows)
        with self.device_placement():
            for index, input_ids, attention_mask in self._padded_batches(windows, batch_size):
                found = method(self.model, input_ids, attention_mask, targets[index].to(self.device))  # [B, A, L]
                for row, i in enumerate(index):
                    scores[i] = found[row, :, : len(windows[i])].detach().float().cpu()
        return probabilities, scores

    def _evidence(
        self, texts: list[str], offsets: list, counts: list[int], probabilities: torch.Tensor, scores: list, top_k: int
    ) -> list[list[list[dict[str, Any]]]]:
        """Per text, per aspect, its `top_k` words, from the window that mentions the aspect most clearly (the
        window `chunk_aggregation="max"` keeps; a text of one window has one)."""
        found, first = [], 0
        for text, count in zip(texts, counts, strict=True):
            spans = word_spans(text)
            windows = range(first, first + count)
            words = [word_scores(spans, offsets[w], scores[w]) for w in windows]  # [A, N] each
            best = self._strongest_window(probabilities[first : first + count])  # [A]
            found.append([top_words(text, spans, words[w][a], top_k) for a, w in enumerate(best.tolist())])
            first += count
        return found

    def postprocess(
        self,
        model_outputs: dict[str, Any],
        threshold: dict[str, float] | None = None,
        top_k: int | None = 1,
        return_all_aspects: bool = False,
        output_format: str = "aspects",
        chunk_aggregation: str = "max",
        **evidence_off: Any,
    ) -> list[dict[str, Any]]:
        logits = model_outputs["logits"].float()  # [W, A, C]
        distribution = self._aggregate(logits.softmax(dim=-1), chunk_aggregation)  # [A, C]
        return self._entries(distribution[None], threshold, top_k, return_all_aspects, output_format)[0]

    def _entries(
        self,
        distributions: torch.Tensor,
        threshold: dict[str, float] | None = None,
        top_k: int | None = 1,
        return_all_aspects: bool = False,
        output_format: str = "aspects",
        evidence: list[list[list[dict[str, Any]]]] | None = None,
    ) -> list[list[dict[str, Any]]]:
        """`[N, A, C]` distributions -> one output list per text (with `evidence[n][a]` under `evidence` when given). The decisions (best sentiment, mentioned or
        not, class ranking) are taken on the whole tensor at once; only the dictionaries are built per aspect."""
        names, aspects = self.class_names, self.aspects
        sentiment_ids = torch.arange(1 if self.can_detect else 0, len(names))  # "none" is class 0
        best = sentiment_ids[distributions[..., sentiment_ids].argmax(dim=-1)]  # [N, A]: first maximum on ties
        best_score = distributions.gather(-1, best[..., None])[..., 0]  # [N, A]
        mentioned: list | None = None
        if self.can_detect:
            limits = threshold or self._config_thresholds()
            said = mentioned_mask(distributions, [limits[a] for a in aspects])  # [N, A]: the one decision rule
            mentioned = said.tolist()
            best = torch.where(said, best, 0)  # not mentioned: report the "none" class
            best_score = torch.where(said, best_score, distributions[..., 0])
        ranked = torch.argsort(distributions, dim=-1, descending=True, stable=True)[..., : top_k or len(names)]
        full = distributions.tolist() if return_all_aspects or top_k != 1 else None
        columns = (best.tolist(), best_score.tolist(), ranked.tolist() if top_k != 1 else None)
        results = []
        for n in range(distributions.shape[0]):
            entries = []
            for a, aspect in enumerate(aspects):
                said = None if mentioned is None else mentioned[n][a]
                if said is False and not return_all_aspects:
                    continue
                sentiment = NONE_CLASS if said is False else names[columns[0][n][a]]
                entry: dict[str, Any] = {"aspect": aspect, "sentiment": sentiment, "score": columns[1][n][a]}
                if evidence is not None:
                    entry["evidence"] = evidence[n][a]
                if return_all_aspects:
                    entry["mentioned"] = said
                    entry["probabilities"] = dict(zip(names, full[n][a], strict=True))
                if top_k != 1:
                    entry["labels"] = [{"label": names[i], "score": full[n][a][i]} for i in columns[2][n][a]]
                entries.append(entry)
            results.append(entries if output_format == "aspects" else _flat(entries))
        return results


def _flat(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Aspect entries -> text-classification-style `[{"label", "aspect", "sentiment", "score"}]`, best first."""
    flat = []
    for entry in entries:
        labels = entry.get("labels") or [{"label": entry["sentiment"], "score": entry["score"]}]
        flat.extend(
            {
                "label": flat_label(entry["aspect"], item["label"]),
                "aspect": entry["aspect"],
                "sentiment": item["label"],
                "score": item["score"],
            }
            for item in labels
        )
    return sorted(flat, key=lambda item: -item["score"])


def register_pipeline() -> None:
    """Register [`AspectSentimentPipeline`] as the `"aspect-sentiment-analysis"` task in this process, so that
    `pipeline("aspect-sentiment-analysis", model=model, tokenizer=tokenizer)` works on an in-memory model and
    `pipeline_obj.save_pretrained(dir)` writes `custom_pipelines` into `config.json`. Idempotent.

    Loading an exported model never needs it: its `config.json` names the pipeline file saved beside it.

    Example:

    ```python
    >>> register_pipeline()
    >>> absa = pipeline("aspect-sentiment-analysis", model=model, tokenizer=tokenizer)
    ```
    """
    registered = PIPELINE_REGISTRY.supported_tasks.get(TASK)
    if registered is not None and registered.get("impl") is AspectSentimentPipeline:
        return
    PIPELINE_REGISTRY.register_pipeline(
        TASK,
        pipeline_class=AspectSentimentPipeline,
        pt_model=AutoModel,
        type="text",
    )


__all__ = ["CALL_ARGUMENTS", "TASK", "AspectSentimentPipeline", "register_pipeline"]
