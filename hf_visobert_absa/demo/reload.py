"""Label reviews with a saved model inside a clean Python process, as a user without this package would.

The process comes from `export_verify.run_clean_python`: `python -I -S` (no `PYTHON*` variables, no `.pth`
hooks, so an editable install is invisible), the parent's site-packages added as plain paths, a meta-path
blocker that refuses `hf_visobert_absa` wherever it is installed, a fresh HOME/HF_HOME, `HF_HUB_OFFLINE=1`, and
a working directory outside the project. There the folder is loaded with `AutoModel.from_pretrained(...,
trust_remote_code=True)` and `AutoTokenizer.from_pretrained(..., trust_remote_code=True)` (without the flag,
`AutoTokenizer` reads `config.json`, finds `auto_map` and asks the trust question), and the process prints
each aspect's sentiment for every review; `hf-visobert-absa demo` relays that report.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The clean process's program (after `export_verify`'s bootstrap, which defines PACKAGE_VISIBLE and
# PACKAGE_IMPORTABLE); `ARGS` holds the folder, the reviews and the result marker.
_CLEAN_PREDICT = r"""
import os, sys, torch
from transformers import AutoModel, AutoTokenizer
if PACKAGE_IMPORTABLE:
    sys.exit("hf_visobert_absa is importable in the clean process: the check would prove nothing")
model = AutoModel.from_pretrained(ARGS["folder"], trust_remote_code=True).eval()
tokenizer = AutoTokenizer.from_pretrained(ARGS["folder"], trust_remote_code=True)
leaked = sorted(m for m in sys.modules if m.split(".")[0] == "hf_visobert_absa")
if leaked:
    sys.exit(f"modules of hf_visobert_absa were imported while loading: {leaked}")
print("Clean process (loads the saved folder the way a Hub user would):")
print(f"  {sys.executable} -I -S, cwd {os.getcwd()}, HOME {os.environ['HOME']}")
print(f"  HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE')}, PYTHONPATH={os.environ.get('PYTHONPATH', '(unset)')}, "
      f"hf_visobert_absa on sys.path: {PACKAGE_VISIBLE}, importable: {PACKAGE_IMPORTABLE}")
print(f"  AutoModel.from_pretrained(folder, trust_remote_code=True) -> {type(model).__module__}.{type(model).__name__}")
print(f"  AutoTokenizer.from_pretrained(folder, trust_remote_code=True) -> {type(tokenizer).__name__}")
aspects, classes, reviews = list(model.config.aspects), list(model.config.class_names), ARGS["reviews"]
batch = tokenizer(reviews, padding=True, truncation=True, return_tensors="pt")
with torch.no_grad():
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits  # [R, A, C]
probs = logits.float().softmax(dim=-1)  # [R, A, C]
best = probs.argmax(dim=-1)  # [R, A]
print()
for r, review in enumerate(reviews, start=1):
    print(f"  [{r}] {review}")
width = max(len(a) for a in aspects) + 2
print("\n  " + f"{'aspect':<{width}}" + "".join(f"{f'[{r}]':<18}" for r in range(1, len(reviews) + 1)))
for a, aspect in enumerate(aspects):
    cells = [f"{classes[best[r, a]]} {probs[r, a, best[r, a]]:.2f}" for r in range(len(reviews))]
    print("  " + f"{aspect:<{width}}" + "".join(f"{cell:<18}" for cell in cells))
result = [
    {"review": review, "labels": {a: classes[best[r, j]] for j, a in enumerate(aspects)}, "probabilities": probs[r].tolist()}
    for r, review in enumerate(reviews)
]
print(ARGS["marker"] + json.dumps(result))
"""
_MARKER = "@@demo-result@@ "


def predict_in_clean_process(
    model_dir: str | Path, reviews: Sequence[str], *, timeout: float = 300.0
) -> tuple[str, list[dict[str, Any]]]:
    """Loads `model_dir` in a clean process that cannot import this package (`export_verify.run_clean_python`)
    with `AutoModel`/`AutoTokenizer` and `trust_remote_code=True`, and labels `reviews` there.

    Args:
        model_dir (`str` or `Path`): a folder saved after `register_auto_classes()`, tokenizer beside the weights.
        reviews (`Sequence[str]`): the texts to label.
        timeout (`float`, defaults to 300): seconds before the clean process is killed.

    Returns:
        `tuple[str, list[dict]]`: what the clean process printed, and per review a dict with `review`, `labels`
        (aspect -> class name) and `probabilities` (`[A, C]`).

    Raises:
        RuntimeError: the clean process failed or timed out; the message carries its output.
    """
    from ..publishing.verify import run_clean_python

    args = {"folder": str(Path(model_dir).resolve()), "reviews": list(reviews), "marker": _MARKER}
    code = f"import json\nARGS = json.loads({json.dumps(json.dumps(args))})\n" + _CLEAN_PREDICT
    with tempfile.TemporaryDirectory(prefix="hf-visobert-absa-clean-") as workdir:
        try:
            done = run_clean_python(code, Path(workdir), timeout=timeout)
        except subprocess.TimeoutExpired as error:
            raise RuntimeError(f"The clean process loading {model_dir} did not finish in {timeout:g} s.") from error
    lines = done.stdout.splitlines()
    results = [line[len(_MARKER) :] for line in lines if line.startswith(_MARKER)]
    if done.returncode != 0 or len(results) != 1:
        raise RuntimeError(
            f"The saved folder {model_dir} does not load in a clean process with trust_remote_code=True (exit code "
            f"{done.returncode}).\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
        )
    return "\n".join(line for line in lines if not line.startswith(_MARKER)), json.loads(results[0])


__all__ = ["predict_in_clean_process"]
