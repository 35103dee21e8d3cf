"""Tests that keep the documentation and the packaging true to the code."""
