"""Scripts the tests run in child processes (`python -m tests.scripts.<name>`)."""
