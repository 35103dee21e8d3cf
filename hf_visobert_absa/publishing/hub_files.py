"""The list of Hub-bound code files, read from the `hub/` folder itself (the folder is the list)."""

from __future__ import annotations

from pathlib import Path

#: The folder whose modules travel to the Hub.
HUB_DIR: Path = Path(__file__).resolve().parents[1] / "hub"

#: Every `*.py` of `hub/` except its `__init__.py`: what `ViSoBertAbsaForAspectSentiment.save_pretrained` writes beside the weights
#: (the modeling file and, recursively, the siblings it imports; a test keeps the two equal).
CODE_FILES: frozenset[str] = frozenset(path.name for path in HUB_DIR.glob("*.py") if path.name != "__init__.py")
