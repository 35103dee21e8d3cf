"""Evaluation: honest ABSA metrics (detection, sentiment on mentioned aspects, joint), batched inference,
metric tables and plots, and the `evaluate` module."""
