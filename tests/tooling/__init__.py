"""Tests of the benchmark machinery under benchmarks/."""
