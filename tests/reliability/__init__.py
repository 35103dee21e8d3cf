"""Tests of bad input and security."""
