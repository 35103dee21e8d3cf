"""The hf-visobert-absa test suite (a package: helpers import as `tests.helpers`)."""
