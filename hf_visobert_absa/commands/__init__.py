"""One module per CLI command; each exposes `main(argv: list[str]) -> int`."""
