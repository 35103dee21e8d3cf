"""The list of Hub-bound code files, read from the `hub/` folder itself (the folder is the list)."""

from __future__ import annotations

from pathlib import Path

from ..hub.modeling_visobert_absa import hub_code_files

#: The folder whose modules travel to the Hub.
HUB_DIR: Path = Path(__file__).resolve().parents[1] / "hub"

#: Every `*.py` of `hub/` except its `__init__.py`: what `ViSoBertAbsaModel.save_pretrained` copies.
CODE_FILES: frozenset[str] = frozenset(path.name for path in hub_code_files())
