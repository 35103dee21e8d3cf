"""Tests of the Hub-bound code: config, model, losses, pipeline, remote-code loading, numerics."""
