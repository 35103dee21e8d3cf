"""Prove that an exported folder works on a machine that has only `torch` and `transformers`.

[`verify_exported_folder`] loads the folder in a CLEAN Python process — fresh HOME and HF_HOME,
`HF_HUB_OFFLINE=1`, no PYTHONPATH, a working directory outside the project, site processing off (so an
editable install's import hook never runs) and `hf_visobert_absa` blocked on top — with the public entry points
a Hub user has: `AutoConfig`, `AutoTokenizer`, `AutoModel`, `AutoModelForSequenceClassification`,
`pipeline("aspect-sentiment-analysis", ...)`, `pipeline("text-classification", ...)` and `pipeline(model=...)`, all with `trust_remote_code=True`. The
child reports token ids, logits and pipeline outputs. Token ids and labels must be equal; numbers are compared
with a tolerance ([`max_abs_diff`]), because two processes may run different BLAS thread counts, which split
reductions differently and move the last bits of a float32 logit (measured: about 2e-9).
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

PACKAGE = "hf_visobert_absa"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])

#: Runs first in the clean process: plain site-packages on sys.path (no .pth hooks), then the package blocked.
_BOOTSTRAP = """
import importlib.util, sys
sys.path[:] = [p for p in sys.path if p] + {site_paths!r}
PACKAGE_VISIBLE = importlib.util.find_spec({package!r}) is not None
class _Block:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == {package!r} or name.startswith({package!r} + "."):
            raise ModuleNotFoundError({package!r} + " is blocked in this clean process", name=name)
        return None
sys.meta_path.insert(0, _Block)
try:
    import {package}
except ImportError:
    PACKAGE_IMPORTABLE = False
else:
    PACKAGE_IMPORTABLE = True
"""

#: The checks, run in the clean process; `ARGS` holds the folder, the probe texts and the thread count.
_CHECKS = """
import json, torch, transformers
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer, pipeline
if ARGS["threads"]:
    torch.set_num_threads(ARGS["threads"])
folder, texts = ARGS["folder"], ARGS["texts"]
config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
report = {
    "package_visible_on_path": PACKAGE_VISIBLE,
    "package_importable": PACKAGE_IMPORTABLE,
    "transformers_version": transformers.__version__,
    "config_class": type(config).__module__ + "." + type(config).__name__,
    "tokenizer_class": type(tokenizer).__name__,
    "input_ids": [tokenizer(t)["input_ids"] for t in texts],
}
for name, auto in (("AutoModel", AutoModel), ("AutoModelForSequenceClassification", AutoModelForSequenceClassification)):
    model = auto.from_pretrained(folder, trust_remote_code=True).eval()
    with torch.no_grad():
        logits = [model(**tokenizer(t, return_tensors="pt", truncation=True)).logits[0].tolist() for t in texts]
    report[name] = {"class": type(model).__module__ + "." + type(model).__name__, "training": model.training,
                    "logits": logits}
by_task = pipeline(ARGS["task"], model=folder, trust_remote_code=True, device="cpu")
inferred = pipeline(model=folder, trust_remote_code=True, device="cpu")
classify = pipeline("text-classification", model=folder, trust_remote_code=True, device="cpu")
report["text_classification"] = classify(texts, top_k=None)
report["pipeline_class"] = type(by_task).__module__ + "." + type(by_task).__name__
report["pipeline_inferred_task"] = inferred.task
report["pipeline"] = {
    "by_task": [by_task(texts, **kwargs) for kwargs in ARGS["pipeline_calls"]],
    "inferred": [inferred(texts, **kwargs) for kwargs in ARGS["pipeline_calls"]],
}
with open(ARGS["report"], "w", encoding="utf-8") as handle:
    json.dump(report, handle)
"""


def site_package_paths() -> list[str]:
    """The interpreter's site-packages folders (torch, transformers, ...), added as plain paths.

    A virtual environment inside the project checkout (`.venv/`, as `scripts/setup.sh` makes) is kept: its
    site-packages holds no copy of the package with an editable install, only a `.pth` hook that `-S` never
    runs, and the meta-path blocker refuses the package whatever is on the path. The checkout root itself is
    never added.
    """
    paths = list(site.getsitepackages())
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if isinstance(user_site, str):
        paths.append(user_site)
    return [p for p in paths if os.path.isdir(p) and os.path.realpath(p) != os.path.realpath(_PACKAGE_ROOT)]


def clean_environment(home: Path) -> dict[str, str]:
    """Environment of the clean process: PATH and thread settings survive, every Hugging Face path points into
    `home`, the Hub is off."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "HF_HOME": str(home / "hf"),
        "HF_MODULES_CACHE": str(home / "hf" / "modules"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    # Thread and library settings only: they change speed, never where code is imported from.
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def run_clean_python(
    code: str, workdir: Path, timeout: float = 300, python: str | os.PathLike | None = None
) -> subprocess.CompletedProcess:
    """Run `code` in a clean interpreter (`python -I -S`) inside `workdir`, with `hf_visobert_absa` not
    importable. The globals `PACKAGE_VISIBLE` (found on sys.path before the blocker) and `PACKAGE_IMPORTABLE`
    (after it) are defined for `code`.

    Args:
        code (`str`): Python source, run after the bootstrap.
        workdir (`Path`): a folder outside the project; it becomes the cwd and holds the fresh HOME.
        timeout (`float`, defaults to 300): seconds before the process is killed.
        python (*optional*): another interpreter, e.g. of a virtual environment with another transformers
            (`-I` only: its own site-packages, which hold no copy of this package); defaults to this one.

    Returns:
        `subprocess.CompletedProcess` with text stdout/stderr (the caller checks `returncode`).
    """
    home = Path(workdir) / "home"
    home.mkdir(parents=True, exist_ok=True)
    site_paths = site_package_paths() if python is None else []
    script = _BOOTSTRAP.format(site_paths=site_paths, package=PACKAGE) + "\n" + textwrap.dedent(code)
    interpreter = [sys.executable, "-I", "-S"] if python is None else [str(python), "-I"]
    return subprocess.run(
        [*interpreter, "-X", "utf8", "-c", script],
        cwd=workdir,
        env=clean_environment(home),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def clean_process_report(
    folder: str | os.PathLike,
    texts: list[str],
    pipeline_calls: list[dict[str, Any]],
    *,
    task: str,
    threads: int | None = None,
    timeout: float = 300,
    python: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Load `folder` in a clean process through every public entry point and return what it computed. `threads`
    sets the child's torch thread count (`None`: the library default, as a Hub user gets); `python`: another
    interpreter (see [`run_clean_python`]).

    Raises:
        RuntimeError: the clean process failed; the message carries its output.
    """
    with tempfile.TemporaryDirectory(prefix="visobert_absa_verify_") as workdir:
        report_path = Path(workdir) / "report.json"
        args = {
            "folder": str(Path(folder).resolve()),
            "texts": texts,
            "task": task,
            "threads": threads,
            "pipeline_calls": pipeline_calls,
            "report": str(report_path),
        }
        code = f"ARGS = json.loads({json.dumps(json.dumps(args))})\n" + _CHECKS
        result = run_clean_python("import json\n" + code, Path(workdir), timeout=timeout, python=python)
        if result.returncode != 0 or not report_path.exists():
            raise RuntimeError(
                f"The exported folder {folder} does not load in a clean process (exit code {result.returncode}). "
                f"Its output ends with:\n{result.stderr[-4000:]}"
            )
        return json.loads(report_path.read_text(encoding="utf-8"))


def max_abs_diff(left: Any, right: Any) -> float:
    """Largest absolute difference between the numbers of two equally nested structures (lists, dicts, numbers,
    strings); `inf` when the structures, keys or any non-number (a label, a token id list's length) differ."""
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers) and not isinstance(left, bool | str):
        return abs(float(left) - float(right))
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return max((max_abs_diff(a, b) for a, b in zip(left, right, strict=True)), default=0.0)
    if isinstance(left, dict) and isinstance(right, dict) and left.keys() == right.keys():
        return max((max_abs_diff(left[k], right[k]) for k in left), default=0.0)
    return 0.0 if type(left) is type(right) and left == right else float("inf")


__all__ = ["clean_environment", "clean_process_report", "max_abs_diff", "run_clean_python", "site_package_paths"]
