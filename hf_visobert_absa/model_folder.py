"""The ONE check that a folder (or Hub id) holds a usable saved visobert_absa model, before anything loads it.

`train --model_name_or_path`, `evaluate --model`, `predict --model` and `export` call [`validate_model_folder`];
each problem is an [`AbsaInputError`] (one line, exit 2 from the CLI) naming the folder, the flag, what is
wrong and how to fix it. It reads only `config.json` and the safetensors headers (a few kilobytes), never the
weights, so a damaged folder is refused in milliseconds.

The model's own `ViSoBertAbsaForAspectSentiment.from_pretrained` (Hub-bound, stdlib/torch/transformers only) keeps what a
Hub user needs: safetensors only, pickles refused. Everything else lives here.

Decisions:

- The fields that define the network and its outputs — `text_config`, `aspects`, `label_scheme`, `pooling`,
  `head_hidden_size`, `projection_dim` — must be in `config.json`; a missing one is an error, never a default
  (the config class would otherwise fill in the 11 phone aspects and relabel every prediction).
- `sentiments` (the sentiment classes, once the config class has that field) is not required: a `config.json`
  without it is read as the 3-way positive/negative/neutral scheme, because every config written before the
  field existed lacks it, and `save_pretrained` writes every field, so a config written since always has it.
- Weights: `model.safetensors` (or an index and its shards) whose header parses and whose size matches the
  header; an empty or truncated file is refused. The classification layer's size must equal
  `len(aspects) * num_classes` and the projection's `projection_dim`.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from .data.tokenization import TOKENIZER_FILES, looks_like_local_path
from .errors import AbsaInputError
from .hub.configuration_visobert_absa import MODEL_DEFINING_FIELDS
from .hub.modeling_visobert_absa import PICKLE_SUFFIXES
from .io_safety import write_json_atomic

WHAT_TO_PASS = "Pass the `model/` folder of a `hf-visobert-absa train` run or an exported model."


def validate_model_folder(
    name_or_path: str | Path, flag: str = "--model", *, allow_hub: bool = False, require_tokenizer: bool = True
) -> Any:
    r"""Check that `name_or_path` is a saved, undamaged visobert_absa model and return its validated config.

    Args:
        name_or_path (`str` or `Path`): a model folder (or, with `allow_hub`, a Hub model id).
        flag (`str`, *optional*, defaults to `"--model"`): the option the user gave it with, named in messages.
        allow_hub (`bool`, *optional*, defaults to `False`): a name that is not a local path is looked up on the Hub
            (only its config is checked).
        require_tokenizer (`bool`, *optional*, defaults to `True`): a local folder must hold tokenizer files.

    Returns:
        [`ViSoBertAbsaConfig`]: the model's configuration.

    Raises:
        `AbsaInputError`: the path is missing or a file; no or invalid `config.json`; another model type; a
        missing defining field; an invalid value; no safetensors weights (pickles are refused: unpickling can run
        arbitrary code); an empty or truncated weights file; weights whose head sizes disagree with the config;
        no tokenizer files.

    Example:

    ```python
    >>> validate_model_folder("runs/phone/model").aspects[:2]
    ['Battery', 'Camera']
    ```
    """
    path = Path(str(name_or_path))
    where = f"`{flag}` {name_or_path}"
    if path.is_dir():
        config_dict = _read_config_json(path, where)
    elif allow_hub and not path.exists() and not looks_like_local_path(str(name_or_path)):
        config_dict = _hub_config(str(name_or_path), where)
    else:
        state = "is a file, not a folder" if path.exists() else "does not exist"
        raise AbsaInputError(f"{where} {state}. {WHAT_TO_PASS}")
    _check_fields(config_dict, where, flag)
    config = _build_config(name_or_path, where)
    if path.is_dir():
        shapes = _weight_shapes(path, where)
        expected = _expected_shapes(config)
        _check_no_tensor_missing(shapes, expected, where)  # damaged weights, before blaming the config
        _check_head_sizes(shapes, config, where)
        _check_tensor_shapes(shapes, expected, where)
        if require_tokenizer:
            _check_tokenizer_files(path, where)
    return config


def _check_tokenizer_files(path: Path, where: str) -> None:
    """One of `tokenizer.json` / `tokenizer_config.json` must be present, and the JSON ones must parse."""
    if not any((path / name).is_file() for name in TOKENIZER_FILES[:2]):
        raise AbsaInputError(
            f"{where} has no tokenizer files (tokenizer.json / tokenizer_config.json). Save the tokenizer next "
            "to the model (`tokenizer.save_pretrained(folder)`)."
        )
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        file = path / name
        if not file.is_file():
            continue
        try:
            json.loads(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise AbsaInputError(
                f"{where}: {name} is not valid JSON ({error}). Save the tokenizer again "
                "(`tokenizer.save_pretrained(folder)`) or copy it from the encoder the model was trained from."
            ) from None


def _read_config_json(path: Path, where: str) -> Any:
    config_path = path / "config.json"
    if not config_path.is_file():
        if (path / "model" / "config.json").is_file():  # train's --output_dir: the model is in model/
            raise AbsaInputError(
                f"{where} is a training run folder, not a model folder: pass its model, {path / 'model'}."
            )
        raise AbsaInputError(f"{where} is not a model folder: it has no config.json. {WHAT_TO_PASS}")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AbsaInputError(f"{where}: config.json is not valid JSON ({error}).") from None
    if not isinstance(config, dict):
        raise AbsaInputError(
            f"{where}: config.json holds a JSON {type(config).__name__}, not an object of model settings. Save the "
            "model again."
        )
    return config


def _hub_config(name: str, where: str) -> Any:
    from transformers import PretrainedConfig

    try:
        return PretrainedConfig.get_config_dict(name)[0]
    except OSError as error:
        raise AbsaInputError(
            f"{where} is not a local folder and could not be loaded from the Hub: {error} {WHAT_TO_PASS}"
        ) from None


def _check_fields(config_dict: Any, where: str, flag: str) -> None:
    model_type = config_dict.get("model_type") if isinstance(config_dict, dict) else None
    if model_type != "visobert_absa":
        raise AbsaInputError(
            f"{where} holds a {model_type!r} model, not a visobert_absa model. {WHAT_TO_PASS}"
            + (
                " To start from a pretrained encoder, pass it as `--encoder` instead."
                if flag == "--model_name_or_path"
                else ""
            )
        )
    # the fields the Hub config refuses to default; `sentiments`: see the module notes
    missing = [name for name in MODEL_DEFINING_FIELDS if name not in config_dict]
    if missing:
        raise AbsaInputError(
            f"{where}: config.json lacks {', '.join(repr(m) for m in missing)}, which define(s) the model; a missing "
            "field is never filled with a default (the default aspects would relabel every prediction). Add the "
            "field(s) with the values the model was trained with, or save the model again."
        )


def _build_config(name_or_path: str | Path, where: str) -> Any:
    from .hub.configuration_visobert_absa import ViSoBertAbsaConfig

    try:
        return ViSoBertAbsaConfig.from_pretrained(str(name_or_path))
    except (TypeError, ValueError, KeyError) as error:
        raise AbsaInputError(
            f"{where}: config.json holds an invalid value: {error} Fix config.json or save the model again."
        ) from None


def _weight_shapes(path: Path, where: str) -> dict[str, list[int]]:
    """Tensor name -> shape, from the headers of the folder's safetensors file(s), each checked for damage."""
    single, index = path / "model.safetensors", path / "model.safetensors.index.json"
    if single.is_file():
        return read_safetensors_header(single, where)
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise AbsaInputError(f"{where}: {index.name} is damaged ({error!r}). Save the model again.") from None
        shapes: dict[str, list[int]] = {}
        for shard in sorted(set(weight_map.values())):
            if not (path / shard).is_file():
                raise AbsaInputError(f"{where}: the weight shard {shard} listed in {index.name} is missing.")
            shapes.update(read_safetensors_header(path / shard, where))
        return shapes
    pickles = sorted(p.name for p in path.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise AbsaInputError(
            f"{where} has no model.safetensors, only pickled weights ({', '.join(pickles)}); visobert_absa models "
            "load weights only from safetensors, because unpickling a file can run arbitrary code. Convert a file "
            "you trust once with `safetensors.torch.save_file(torch.load(path, weights_only=True), "
            "'model.safetensors')`."
        )
    raise AbsaInputError(
        f"{where} has no model.safetensors: the weights are missing. Save the model again "
        "(`model.save_pretrained(folder)`)."
    )


def read_safetensors_header(file: Path, where: str = "") -> dict[str, list[int]]:
    r"""Tensor name -> shape from a safetensors file's header, after checking that the file is whole.

    The format is an 8-byte little-endian header length, a JSON header with each tensor's `data_offsets`, then
    the data; the file must be exactly as long as the header says.

    Raises:
        `AbsaInputError`: the file is empty, its header is damaged, or it is shorter or longer than its header says.
    """
    size = file.stat().st_size
    label = f"{where}: {file.name}" if where else str(file)
    fix = "Copy or save the model again (e.g. an interrupted download or a full disk leaves such a file)."
    if size == 0:
        raise AbsaInputError(f"{label} is empty (0 bytes). {fix}")
    with open(file, "rb") as handle:
        head = handle.read(8)
        length = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
        if not 0 < length <= size - 8:
            raise AbsaInputError(f"{label} is not a whole safetensors file ({size} bytes, header unreadable). {fix}")
        try:
            header = json.loads(handle.read(length).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise AbsaInputError(f"{label} has a damaged safetensors header ({size} bytes). {fix}") from None
    tensors = {k: v for k, v in header.items() if k != "__metadata__"} if isinstance(header, dict) else {}
    try:
        end = max((int(v["data_offsets"][1]) for v in tensors.values()), default=0)
        shapes = {k: [int(n) for n in v["shape"]] for k, v in tensors.items()}
    except (KeyError, TypeError, ValueError, IndexError):
        raise AbsaInputError(f"{label} has a damaged safetensors header ({size} bytes). {fix}") from None
    if size != 8 + length + end:
        raise AbsaInputError(
            f"{label} is truncated or damaged: its header describes {8 + length + end} bytes but the file has {size}. "
            f"{fix}"
        )
    return shapes


def _check_head_sizes(shapes: dict[str, list[int]], config: Any, where: str) -> None:
    """The classification layer must have `num_aspects * num_classes` outputs, the projection `projection_dim`."""
    encoder = tuple(f"{name}." for name in ("encoder", "visobert_absa", "roberta", "bert"))
    heads = {k: s for k, s in shapes.items() if len(s) == 2 and k.endswith("weight") and not k.startswith(encoder)}
    if not heads:
        return  # no head weights at all: `from_pretrained` reports the missing keys
    outputs = {s[0] for s in heads.values()}
    classes, aspects = config.num_classes, list(config.aspects)
    if len(aspects) * classes not in outputs:
        others = sorted(
            n for n in outputs if n % classes == 0 and n not in (config.head_hidden_size, config.projection_dim)
        )
        found = (
            f"{others[0]} outputs ({others[0] // classes} aspects x {classes} classes)"
            if others
            else f"sizes {sorted(outputs)}"
        )
        raise AbsaInputError(
            f"{where}: the weights do not match config.json: the classification layer has {found}, but config.json "
            f"lists {len(aspects)} aspects {aspects} x {classes} classes = {len(aspects) * classes}. Restore the "
            "config.json saved with these weights (its `aspects`), or save the model again."
        )
    if config.projection_dim not in outputs:
        raise AbsaInputError(
            f"{where}: the weights do not match config.json: no projection layer of `projection_dim` "
            f"{config.projection_dim} outputs (head layer sizes: {sorted(outputs)}). Restore the config.json saved "
            "with these weights."
        )


def _expected_shapes(config: Any) -> dict[str, list[int]]:
    """Tensor name -> shape of the model `config` describes, built on the meta device (no memory, no weights)."""
    import torch

    from .hub.modeling_visobert_absa import ViSoBertAbsaForAspectSentiment

    with torch.device("meta"):
        return {name: list(t.shape) for name, t in ViSoBertAbsaForAspectSentiment(config).state_dict().items()}


def _check_no_tensor_missing(shapes: dict[str, list[int]], expected: dict[str, list[int]], where: str) -> None:
    """Every tensor the model needs is in the weights; a missing one means an incomplete file (or more layers in an
    edited config.json)."""
    missing = [name for name in expected if name not in shapes]
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise AbsaInputError(
            f"{where}: the weights file lacks {len(missing)} tensor(s) the model needs ({shown}): it is incomplete, "
            "from another model, or config.json was edited. Save the model again (`model.save_pretrained(folder)`)."
        )


def _check_tensor_shapes(shapes: dict[str, list[int]], expected: dict[str, list[int]], where: str) -> None:
    """Every tensor has the shape config.json gives it (a size such as `text_config.hidden_size` edited: no)."""
    wrong = [(name, shapes[name], shape) for name, shape in expected.items() if shapes[name] != shape]
    if wrong:
        name, found, wanted = wrong[0]
        raise AbsaInputError(
            f"{where}: the weights do not match config.json: {name} has shape {found} in the weights but {wanted} "
            f"from config.json ({len(wrong)} tensor(s) differ; was a size such as `text_config.hidden_size` edited?). "
            "Restore the config.json saved with these weights."
        )


#: `tokenizer_config.json` class names transformers 5 writes that transformers 4.x cannot resolve, and the name
#: both read: a tokenizer defined by its `tokenizer.json` alone.
_PORTABLE_TOKENIZER_CLASSES = {"TokenizersBackend": "PreTrainedTokenizerFast"}


def save_tokenizer(tokenizer: Any, folder: str | Path) -> None:
    """`tokenizer.save_pretrained(folder)`, written so that every transformers the Hub code supports
    (`HUB_CODE_REQUIRES`) finds and loads it: a `tokenizer_class` only transformers 5 knows (`TokenizersBackend`,
    what ViSoBERT's BPE tokenizer loads as) is saved under the name 4.x knows too, and the folder's `config.json`,
    when there is one, names that class (transformers 4.x `pipeline()` loads a tokenizer for a remote-code model
    only when its config names one)."""
    tokenizer.save_pretrained(str(folder))
    settings_path, config_path = Path(folder) / "tokenizer_config.json", Path(folder) / "config.json"
    if not settings_path.is_file():
        return
    settings = json.loads(settings_path.read_text(encoding="utf-8"))
    tokenizer_class = _PORTABLE_TOKENIZER_CLASSES.get(settings.get("tokenizer_class"), settings.get("tokenizer_class"))
    if tokenizer_class != settings.get("tokenizer_class"):
        settings["tokenizer_class"] = tokenizer_class
        write_json_atomic(settings_path, settings, sort_keys=True, ensure_ascii=False)
    if config_path.is_file() and tokenizer_class:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if config.get("tokenizer_class") != tokenizer_class:
            write_json_atomic(
                config_path, {**config, "tokenizer_class": tokenizer_class}, sort_keys=True, ensure_ascii=False
            )


__all__ = [
    "save_tokenizer",
    "read_safetensors_header",
    "validate_model_folder",
]
