"""The `hf-visobert-absa` command line: `main` dispatches to one module per command in this folder; each
exposes `main(argv: list[str]) -> int`."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
