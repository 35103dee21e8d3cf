"""Tests of export, model card, push_to_hub."""
