"""Tests of the command line, the demo and explain."""
