"""The `hf-visobert-absa` command line: `main` in `main.py` dispatches to one module per command in this folder;
each exposes `main(argv: list[str]) -> int`."""
