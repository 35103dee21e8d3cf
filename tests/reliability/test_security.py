"""Security: what the Hub-bound code may do, tokens never leaving the process, weights only from safetensors.

1. An `ast` scan of the files that travel to the Hub with `trust_remote_code` (configuration, modeling, losses,
   pipeline and every sibling they import): imports only the standard library, `torch`, `transformers` and flat
   relative siblings; no network module, no `eval`/`exec`/`compile`/`__import__`, no process spawning, no
   pickle, no file writes. The scanner itself is tested on bad snippets, so a scan that finds nothing means
   something.
2. A fake `HF_TOKEN` is never logged (every logger at DEBUG), printed, or written to any file by saving,
   loading and training.
3. A checkpoint folder holding only `pytorch_model.bin` (a pickle) is refused by `from_pretrained`.
"""

from __future__ import annotations

import ast
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from hf_visobert_absa.publishing.hub_files import CODE_FILES
from tests import helpers

PACKAGE = helpers.ROOT / "hf_visobert_absa" / "hub"
HUB_ENTRY_FILES = tuple(sorted(CODE_FILES))


# ------------------------------------------------------------------------------------------------------------------
# 1. Static scan of the Hub-bound code
# ------------------------------------------------------------------------------------------------------------------

ALLOWED_THIRD_PARTY = frozenset({"torch", "transformers"})
#: Modules (and submodules) the Hub code may not import, standard library or not.
DENIED_MODULES = frozenset(
    {
        # network
        "socket",
        "ssl",
        "urllib",
        "urllib3",
        "http",
        "requests",
        "httpx",
        "aiohttp",
        "ftplib",
        "smtplib",
        "poplib",
        "imaplib",
        "telnetlib",
        "xmlrpc",
        "webbrowser",
        "huggingface_hub",
        "torch.hub",
        # processes and native code
        "subprocess",
        "pty",
        "multiprocessing",
        "ctypes",
        "importlib",
        "builtins",
        # deserialisation that runs code
        "pickle",
        "marshal",
        "shelve",
        "dill",
        # files
        "shutil",
        "tempfile",
    }
)
DENIED_CALLS = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "__import__",
        "breakpoint",
        "globals",
        "os.system",
        "os.popen",
        "os.fork",
        "os.forkpty",
        "os.kill",
        "os.posix_spawn",
        "os.posix_spawnp",
        "os.remove",
        "os.unlink",
        "os.rename",
        "os.renames",
        "os.replace",
        "os.rmdir",
        "os.removedirs",
        "os.mkdir",
        "os.makedirs",
        "os.symlink",
        "os.link",
        "os.chmod",
        "os.chown",
        "os.truncate",
        "os.write",
        "os.putenv",
        "torch.load",
        "torch.save",
        "torch.hub.load",
        "torch.hub.download_url_to_file",
    }
)
DENIED_CALL_PREFIXES = ("os.exec", "os.spawn")
#: Methods that write to the file system whatever object they are called on (pathlib.Path and friends).
DENIED_METHODS = frozenset(
    {"write_text", "write_bytes", "touch", "mkdir", "unlink", "rmdir", "symlink_to", "hardlink_to", "chmod"}
)


@dataclass(frozen=True)
class Violation:
    line: int
    rule: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule}"


def _top(module: str) -> str:
    return module.split(".")[0]


def _denied_module(module: str) -> bool:
    parts = module.split(".")
    return any(".".join(parts[: i + 1]) in DENIED_MODULES for i in range(len(parts)))


def scan_source(source: str, siblings: set[str]) -> tuple[list[Violation], set[str]]:
    """Scan one file's source. Returns the violations and the sibling modules it imports relatively."""
    tree = ast.parse(source)
    violations: list[Violation] = []
    imported_siblings: set[str] = set()
    aliases: dict[str, str] = {}  # local name -> qualified name, from the imports

    def check_module(module: str, line: int) -> None:
        if _denied_module(module):
            violations.append(Violation(line, f"denied module `{module}`"))
        elif _top(module) == "hf_visobert_absa":
            violations.append(Violation(line, f"absolute self-import `{module}` (use `from .sibling import X`)"))
        elif _top(module) not in sys.stdlib_module_names | ALLOWED_THIRD_PARTY | {"__future__"}:
            violations.append(Violation(line, f"third-party module `{module}` (allowed: stdlib, torch, transformers)"))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check_module(alias.name, node.lineno)
                aliases[alias.asname or _top(alias.name)] = alias.name if alias.asname else _top(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                check_module(node.module or "", node.lineno)
                for alias in node.names:
                    qualified = f"{node.module}.{alias.name}"
                    denied_call = qualified in DENIED_CALLS or qualified.startswith(DENIED_CALL_PREFIXES)
                    if _denied_module(qualified) or denied_call:
                        violations.append(Violation(node.lineno, f"denied import `{qualified}`"))
                    aliases[alias.asname or alias.name] = qualified
            elif node.level == 1 and node.module and "." not in node.module:
                if node.module not in siblings:
                    violations.append(Violation(node.lineno, f"relative import of a missing sibling `.{node.module}`"))
                imported_siblings.add(node.module)
            else:
                shown = "." * node.level + (node.module or "")
                violations.append(
                    Violation(node.lineno, f"relative import `{shown}` (only `from .sibling import X` is copied)")
                )
        elif isinstance(node, ast.Name) and node.id == "__builtins__":
            violations.append(Violation(node.lineno, "use of `__builtins__`"))
        elif isinstance(node, ast.Call):
            violations.extend(_check_call(node, aliases))
    return violations, imported_siblings


def _qualified_name(node: ast.AST, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return aliases.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _qualified_name(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    return None


def _write_mode(node: ast.Call, position: int) -> str | None:
    """The mode of an `open` call if it may write (or cannot be read statically), else None."""
    mode = node.args[position] if len(node.args) > position else None
    for keyword in node.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    if mode is None:
        return None
    if not (isinstance(mode, ast.Constant) and isinstance(mode.value, str)):
        return "<not a literal>"
    return mode.value if set(mode.value) & set("wax+") else None


def _check_call(node: ast.Call, aliases: dict[str, str]) -> list[Violation]:
    name = _qualified_name(node.func, aliases)
    found = []
    if name in DENIED_CALLS or (name and name.startswith(DENIED_CALL_PREFIXES)):
        found.append(Violation(node.lineno, f"call to `{name}`"))
    if name and _denied_module(name.rsplit(".", 1)[0]):
        found.append(Violation(node.lineno, f"call into a denied module `{name}`"))
    if name in ("open", "io.open", "os.open", "codecs.open"):
        mode = _write_mode(node, 1)
        if mode or name == "os.open":
            found.append(Violation(node.lineno, f"file write: `{name}(..., {mode!r})`"))
    elif isinstance(node.func, ast.Attribute):
        if node.func.attr in DENIED_METHODS:
            found.append(Violation(node.lineno, f"file-system method `.{node.func.attr}()`"))
        elif node.func.attr == "open" and _write_mode(node, 0):
            found.append(Violation(node.lineno, f"file write: `.open({_write_mode(node, 0)!r})`"))
    return found


def hub_files() -> list[Path]:
    """The Hub entry files that exist plus every sibling they reach by `from .sibling import X`."""
    siblings = {path.stem for path in PACKAGE.glob("*.py")}
    pending = [PACKAGE / name for name in HUB_ENTRY_FILES if (PACKAGE / name).exists()]
    seen: dict[Path, None] = {}
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen[path] = None
        _, imported = scan_source(path.read_text(encoding="utf-8"), siblings)
        pending.extend(PACKAGE / f"{module}.py" for module in imported if (PACKAGE / f"{module}.py").exists())
    return sorted(seen)


@pytest.mark.parametrize("name", HUB_ENTRY_FILES)
def test_hub_entry_file_passes_the_scan(name):
    path = PACKAGE / name
    if not path.exists():
        pytest.skip(f"{name} does not exist (yet) in {PACKAGE}")
    siblings = {p.stem for p in PACKAGE.glob("*.py")}
    violations, _ = scan_source(path.read_text(encoding="utf-8"), siblings)
    assert not violations, f"{name}:\n" + "\n".join(map(str, violations))


def test_every_sibling_the_hub_files_import_passes_the_scan():
    files = hub_files()
    assert PACKAGE / "modeling_visobert_absa.py" in files and PACKAGE / "losses_visobert_absa.py" in files
    siblings = {p.stem for p in PACKAGE.glob("*.py")}
    problems = {path.name: list(map(str, scan_source(path.read_text(encoding="utf-8"), siblings)[0])) for path in files}
    assert not any(problems.values()), problems


BAD_SNIPPETS = {
    "import socket": "denied module `socket`",
    "import urllib.request": "denied module `urllib.request`",
    "from http import client": "denied module `http`",
    "import requests": "denied module `requests`",
    "import yaml": "third-party module `yaml`",
    "from huggingface_hub import hf_hub_download": "denied module `huggingface_hub`",
    "from torch import hub": "denied import `torch.hub`",
    "import numpy": "third-party module `numpy`",
    "from hf_visobert_absa.losses import focal_loss": "absolute self-import",
    "from . import losses": "relative import `.`",
    "from ..pkg import x": "relative import `..pkg`",
    "from .no_such_sibling import x": "missing sibling `.no_such_sibling`",
    "eval('1')": "call to `eval`",
    "exec('x = 1')": "call to `exec`",
    "compile('1', 'f', 'eval')": "call to `compile`",
    "__import__('os')": "call to `__import__`",
    "getattr(__builtins__, 'eval')": "use of `__builtins__`",
    "import subprocess\nsubprocess.run(['ls'])": "denied module `subprocess`",
    "import os\nos.system('ls')": "call to `os.system`",
    "import os as o\no.popen('ls')": "call to `os.popen`",
    "from os import execv": "denied import `os.execv`",
    "import os\nos.execvp('ls', ['ls'])": "call to `os.execvp`",
    "open('f', 'w')": "file write: `open(..., 'w')`",
    "open('f', mode='a')": "file write: `open(..., 'a')`",
    "open('f', 'xb')": "file write",
    "open('f', 'r+')": "file write",
    "open('f', some_mode)": "<not a literal>",
    "import io\nio.open('f', 'wb')": "file write: `io.open(..., 'wb')`",
    "from pathlib import Path\nPath('f').write_text('x')": "file-system method `.write_text()`",
    "from pathlib import Path\nPath('f').write_bytes(b'x')": "file-system method `.write_bytes()`",
    "from pathlib import Path\nPath('f').open('w')": "file write: `.open('w')`",
    "import torch\ntorch.save({}, 'f')": "call to `torch.save`",
    "import torch\ntorch.load('f')": "call to `torch.load`",
    "import pickle": "denied module `pickle`",
    "import shutil": "denied module `shutil`",
}


@pytest.mark.parametrize("snippet", BAD_SNIPPETS)
def test_the_scanner_catches_each_forbidden_construct(snippet):
    violations, _ = scan_source(snippet, siblings={"losses"})
    assert any(BAD_SNIPPETS[snippet] in str(v) for v in violations), violations


def test_the_scanner_accepts_what_hub_code_needs():
    source = (
        "from __future__ import annotations\nimport logging\nimport math\nimport torch\n"
        "from torch.nn import functional as F\nfrom transformers import PreTrainedModel\n"
        "from .losses_visobert_absa import focal_loss\nwith open('f') as handle:\n    handle.read()\n"
        "text = 'a'.replace('a', 'b')\n"
    )
    assert scan_source(source, siblings={"losses_visobert_absa"}) == ([], {"losses_visobert_absa"})


# ------------------------------------------------------------------------------------------------------------------
# 2. Tokens never logged, printed or written
# ------------------------------------------------------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()} {record.args!r} {record.exc_text or ''}")


@pytest.fixture
def every_logger_at_debug():
    """Attach a collecting handler at DEBUG to the root logger and to every logger that does not propagate."""
    from transformers.utils import logging as hf_logging

    handler = _Collect()
    previous_verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_debug()
    levels: dict[logging.Logger, int] = {}

    def attach() -> None:
        loggers = [logging.getLogger()] + [
            logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
        ]
        for logger in loggers:
            if logger in levels:
                continue
            levels[logger] = logger.level
            logger.setLevel(logging.DEBUG)
            if logger is logging.getLogger() or not logger.propagate:
                logger.addHandler(handler)

    attach()
    handler.attach = attach  # call again after imports that create new loggers
    yield handler
    for logger, level in levels.items():
        logger.removeHandler(handler)
        logger.setLevel(level)
    hf_logging.set_verbosity(previous_verbosity)


def _files_containing(root: Path, needle: bytes) -> list[str]:
    return [str(path) for path in root.rglob("*") if path.is_file() and needle in path.read_bytes()]


def test_a_token_in_the_environment_is_never_logged_printed_or_written(
    tmp_path, monkeypatch, capfd, every_logger_at_debug, tokenizer
):
    from transformers import AutoModel, DataCollatorWithPadding, TrainingArguments

    from hf_visobert_absa import ViSoBertAbsaForAspectSentiment, register_auto_classes
    from hf_visobert_absa.training.trainer import FocalContrastiveTrainer
    from tests.helpers import ASPECTS, tiny_examples, tiny_model

    token = "hf_FAKE" + "Zq8xTokenNeverLeaves" + "0123456789"
    monkeypatch.setenv("HF_TOKEN", token)
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", token)
    import huggingface_hub

    assert huggingface_hub.get_token() == token  # the libraries do see it: there is something to leak
    every_logger_at_debug.attach()

    register_auto_classes()
    model = tiny_model(seed=0, aspects=ASPECTS)
    saved = tmp_path / "saved"
    model.save_pretrained(saved)
    tokenizer.save_pretrained(saved)
    ViSoBertAbsaForAspectSentiment.from_pretrained(saved)
    AutoModel.from_pretrained(saved, trust_remote_code=True)
    args = TrainingArguments(
        output_dir=str(tmp_path / "run"),
        use_cpu=True,
        per_device_train_batch_size=4,
        max_steps=2,
        save_steps=1,
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=1,
        report_to="none",
        seed=0,
    )
    examples = tiny_examples(tokenizer, count=8)
    trainer = FocalContrastiveTrainer(
        model=model,
        args=args,
        train_dataset=examples,
        eval_dataset=examples[:4],
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
    )
    every_logger_at_debug.attach()
    trainer.train()
    trainer.save_model(str(tmp_path / "final"))
    print(repr(trainer.args), trainer.state.log_history)

    captured = capfd.readouterr()
    assert every_logger_at_debug.lines, "no log record captured: the capture is not working"
    assert not [line for line in every_logger_at_debug.lines if token in line]
    assert token not in captured.out and token not in captured.err
    written = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert "model.safetensors" in written and "trainer_state.json" in written and "training_args.bin" in written
    assert _files_containing(tmp_path, token.encode()) == []
    assert _files_containing(Path(os.environ["HF_HOME"]), token.encode()) == []


# ------------------------------------------------------------------------------------------------------------------
# 3. Weights only from safetensors
# ------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def pickle_only_checkpoint(tmp_path):
    from safetensors.torch import load_file

    from tests.helpers import tiny_model

    model = tiny_model(seed=0, aspects=["Battery", "Camera"])
    model.save_pretrained(tmp_path)
    state = load_file(str(tmp_path / "model.safetensors"))
    torch.save(state, tmp_path / "pytorch_model.bin")
    (tmp_path / "model.safetensors").unlink()
    return tmp_path


def test_explicit_use_safetensors_refuses_a_pickle_only_folder(pickle_only_checkpoint):
    """Asking for safetensors explicitly gives the same explanation; asking for pickles is refused."""
    from hf_visobert_absa import ViSoBertAbsaForAspectSentiment

    with pytest.raises(OSError, match=r"holds only pickled weights \(pytorch_model\.bin\)"):
        ViSoBertAbsaForAspectSentiment.from_pretrained(pickle_only_checkpoint, use_safetensors=True)
    with pytest.raises(ValueError, match=r"`use_safetensors=False` is not allowed"):
        ViSoBertAbsaForAspectSentiment.from_pretrained(pickle_only_checkpoint, use_safetensors=False)


def test_from_pretrained_refuses_a_pickle_only_folder_and_says_why(pickle_only_checkpoint):
    from hf_visobert_absa import ViSoBertAbsaForAspectSentiment

    with pytest.raises(OSError) as raised:
        ViSoBertAbsaForAspectSentiment.from_pretrained(pickle_only_checkpoint)
    message = str(raised.value)
    assert "pytorch_model.bin" in message and "pickle" in message and "safetensors" in message


def test_the_log_capture_sees_library_and_package_loggers(every_logger_at_debug):
    """The control for the token test: a DEBUG record from a non-propagating library logger (transformers has
    its own handler) and from our package both reach the capture."""
    import transformers.trainer  # noqa: F401  (creates the logger)

    every_logger_at_debug.attach()
    logging.getLogger("transformers.trainer").debug("marker-%s", "transformers")
    logging.getLogger("hf_visobert_absa.training.trainer").debug("marker-%s", "package")
    joined = "\n".join(every_logger_at_debug.lines)
    assert "marker-transformers" in joined and "marker-package" in joined
