"""Run Python code in a clean process: fresh HOME/HF_HOME, HF_HUB_OFFLINE=1, no PYTHONPATH, cwd outside the
repo, and `hf_visobert_absa` NOT importable (as on a machine that only has torch and transformers)."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# `-S` skips site processing, so the editable install's .pth hook never runs; the site-packages folders are
# appended as plain paths (torch, transformers, ... importable) and a meta-path blocker refuses the package
# even if it were installed non-editable.
_BOOTSTRAP = """
import sys
sys.path[:] = [p for p in sys.path if p]
sys.path.extend({site_paths!r})
class _Block:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "hf_visobert_absa" or name.startswith("hf_visobert_absa."):
            raise ModuleNotFoundError("hf_visobert_absa is blocked in this clean process", name=name)
        return None
sys.meta_path.insert(0, _Block)
try:
    import hf_visobert_absa  # noqa: F401
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("hf_visobert_absa is importable: the clean process is not clean")
"""


def site_paths() -> list[str]:
    paths = list(site.getsitepackages())
    return [p for p in paths if os.path.isdir(p) and str(REPO) not in p]


def run_clean(code: str, workdir: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run `code` in a clean interpreter inside `workdir` (a temp dir outside the repo); raise on failure
    with the process output in the message."""
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "HF_HOME": str(home / "hf"),
        "HF_MODULES_CACHE": str(home / "hf" / "modules"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }
    script = _BOOTSTRAP.format(site_paths=site_paths()) + "\n" + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-c", script],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"clean process failed with exit code {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result
