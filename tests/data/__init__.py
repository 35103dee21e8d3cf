"""Tests of reading review files and tokenizers."""
