"""int8 inference on CPUs through ONNX Runtime: the model is exported to ONNX and its weights quantised to int8
with ONNX Runtime's dynamic quantisation (activations quantised on the fly, per batch).

Why ONNX Runtime (measured: `benchmarks/results/int8/int8.json`, docs/PERFORMANCE.md): at ViSoBERT size on this
CPU, one thread, ONNX Runtime int8 ran 2.26x the reviews/s of fp32 PyTorch and PyTorch's own dynamic quantisation
(`torch.ao.quantization.quantize_dynamic`, deprecated in favour of torchao) 2.21x; torchao's eager int8 dynamic
quantisation gave no speed-up on this CPU in a quick probe (it needs `torch.compile`). ONNX Runtime is maintained,
the fastest here, and its per-channel weights lost no accuracy on validation data.

The quantised model is a `torch.nn.Module` that answers like the fp32 one (`model(input_ids=...,
attention_mask=...)` -> `.logits [B, A, C]`, `.embeddings [B, D]`, `.config`), so the pipeline, [`score_texts`]
and `predict --int8` use it unchanged. `onnxruntime` and `onnx` are an optional extra:
`pip install "hf-visobert-absa[int8]"`.

References:
    - Jacob et al., "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only
      Inference", CVPR 2018, arXiv:1712.05877 (affine int8 quantisation).
    - Zafrir et al., "Q8BERT: Quantized 8Bit BERT", 2019, arXiv:1910.06188 (int8 BERT with little loss).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from ..errors import AbsaInputError
from ..hub.modeling_visobert_absa import AspectSentimentOutput

logger = logging.getLogger(__name__)

INSTALL_HINT = 'Install the optional extra: pip install "hf-visobert-absa[int8]" (onnxruntime and onnx).'
_OPSET = 17


def _onnxruntime() -> Any:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime
    except ImportError as error:
        raise AbsaInputError(
            f"int8 inference needs onnxruntime and onnx ({error.name} is missing). {INSTALL_HINT}"
        ) from None
    return onnxruntime


class _LogitsAndEmbeddings(torch.nn.Module):
    """The exported graph: token ids and mask -> (logits, embeddings)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        output = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return output.logits, output.embeddings


class OnnxInt8Model(torch.nn.Module):
    r"""A visobert_absa model quantised to int8 and run by ONNX Runtime on the CPU; built by [`quantize_int8`].

    Args:
        session (`onnxruntime.InferenceSession`): the quantised graph.
        config ([`ViSoBertAbsaConfig`]): the fp32 model's configuration (aspects, classes, label scheme).
        path (`Path`, *optional*): where the `.onnx` file lies, when it was kept.
    """

    def __init__(self, session: Any, config: Any, path: Path | None = None) -> None:
        super().__init__()
        self.session = session
        self.config = config
        self.path = path

    @property
    def device(self) -> torch.device:
        """Always the CPU."""
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the outputs (the weights are int8)."""
        return torch.float32

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **_: Any
    ) -> AspectSentimentOutput:
        """`input_ids`, `attention_mask` `[B, L]` -> `AspectSentimentOutput(logits [B, A, C], embeddings [B, D])`."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        feeds = {"input_ids": input_ids.cpu().long().numpy(), "attention_mask": attention_mask.cpu().long().numpy()}
        logits, embeddings = self.session.run(["logits", "embeddings"], feeds)
        return AspectSentimentOutput(logits=torch.from_numpy(logits), embeddings=torch.from_numpy(embeddings))


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


def _export(model: torch.nn.Module, path: Path) -> None:
    """The fp32 model -> an ONNX graph with dynamic batch and length (the TorchScript-based exporter, which needs
    only `onnx`)."""
    dummy = torch.ones(2, 8, dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"},
            "logits": {0: "batch"}, "embeddings": {0: "batch"}}  # fmt: skip
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow on shapes
        torch.onnx.export(
            _LogitsAndEmbeddings(model.eval()), (dummy, dummy), str(path), input_names=["input_ids", "attention_mask"],
            output_names=["logits", "embeddings"], dynamic_axes=axes, opset_version=_OPSET, dynamo=False,
        )  # fmt: skip


def quantize_int8(
    model: torch.nn.Module, save_dir: str | Path | None = None, threads: int | None = None, per_channel: bool = True
) -> OnnxInt8Model:
    r"""Export `model` to ONNX, quantise its weights to int8 (ONNX Runtime's `quantize_dynamic`, signed int8
    weights, one scale per output channel; activations quantised per batch) and load it in an ONNX Runtime CPU
    session. Because activations are quantised per batch, a review's scores move slightly with its batch
    companions (the pipeline and `predict` form the same batches for the same input, so results repeat).

    Args:
        model ([`ViSoBertAbsaForAspectSentiment`]): the fp32 model (any device; it is exported from a CPU copy of the graph).
        save_dir (`str` or `Path`, *optional*): keep `model_int8.onnx` there (default: a temporary folder, removed
            once the session has loaded the graph).
        threads (`int`, *optional*): ONNX Runtime intra-op threads (default: `torch.get_num_threads()`).
        per_channel (`bool`, *optional*, defaults to `True`): one weight scale per output channel. Chosen on
            validation data (a MiniLM model on phone_reviews: joint micro-F1 -1.70 points per tensor, +0.09 per
            channel, at the same speed; `benchmarks/results/int8/validation/int8.json`).

    Returns:
        [`OnnxInt8Model`]: call it like the fp32 model; give it to the pipeline with [`int8_pipeline`].

    Raises:
        `AbsaInputError`: onnxruntime or onnx is not installed (the message says how to install them).

    Example:

    ```python
    >>> int8 = quantize_int8(ViSoBertAbsaForAspectSentiment.from_pretrained("runs/phone/model"))
    >>> int8(**tokenizer(["Pin trâu"], return_tensors="pt")).logits.shape
    torch.Size([1, 11, 4])
    ```
    """
    ort = _onnxruntime()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = model.to("cpu").float().eval()
    with tempfile.TemporaryDirectory() as scratch:
        fp32_path = Path(scratch) / "model.onnx"
        _export(model, fp32_path)
        target = Path(save_dir) if save_dir is not None else Path(scratch)
        target.mkdir(parents=True, exist_ok=True)
        int8_path = target / "model_int8.onnx"
        with _quiet_root_logger():  # onnxruntime logs a generic pre-processing hint on the root logger
            quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=per_channel)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(int8_path), options, providers=["CPUExecutionProvider"])
    logger.info("int8 model ready (ONNX Runtime %s, %d thread(s))", ort.__version__, options.intra_op_num_threads)
    return OnnxInt8Model(session, model.config, int8_path if save_dir is not None else None)


def int8_pipeline(model: torch.nn.Module, tokenizer: Any, **kwargs: Any) -> Any:
    r"""The `aspect-sentiment-analysis` pipeline on the int8 version of `model` (CPU).

    Args:
        model ([`ViSoBertAbsaForAspectSentiment`]): the fp32 model.
        tokenizer: its tokenizer.
        kwargs: the pipeline's constructor arguments (`batch_size`, `threshold`, `long_text`, ...).

    Returns:
        [`AspectSentimentPipeline`]: the same API and outputs as with the fp32 model.

    Example:

    ```python
    >>> absa = int8_pipeline(model, tokenizer, batch_size=32)
    >>> absa(["Pin trâu, camera chụp đẹp.", "Giao hàng chậm quá"])
    ```
    """
    from ..hub.pipeline_visobert_absa import TASK, AspectSentimentPipeline

    quantized = quantize_int8(model)
    pipe = AspectSentimentPipeline(model=model.to("cpu"), tokenizer=tokenizer, device="cpu", task=TASK, **kwargs)
    pipe.model = quantized  # the pipeline only calls the model and reads its config
    return pipe


__all__ = ["INSTALL_HINT", "OnnxInt8Model", "int8_pipeline", "quantize_int8"]
