"""Tests of metrics and plots."""
