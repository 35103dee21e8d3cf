"""The public API: every name in `hf_visobert_absa.__all__` resolves from the package root, and importing the
package loads neither torch nor transformers (everything is lazy; no side effects at import)."""

from __future__ import annotations

import subprocess
import sys

import hf_visobert_absa
from tests import helpers


def test_every_public_name_resolves_from_the_root():
    missing = [name for name in hf_visobert_absa.__all__ if getattr(hf_visobert_absa, name, None) is None]
    assert not missing


def test_an_unknown_name_raises_attribute_error():
    try:
        hf_visobert_absa.no_such_name  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_package_loads_neither_torch_nor_transformers():
    code = "import sys, hf_visobert_absa; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=helpers.script_env(), check=True
    ).stdout
    assert out.split() == ["False", "False"]
