"""Folder of the `evaluate` module `absa_metric.py`: load it with `evaluate.load(<this folder>)`.

Nothing is imported here, so importing `hf_visobert_absa` never pulls in `evaluate`; the folder's path is
`hf_visobert_absa.evaluation.metrics.EVALUATE_MODULE_PATH`.
"""
