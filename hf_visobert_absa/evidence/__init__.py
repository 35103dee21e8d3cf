"""Evidence for predictions: which words each predicted aspect rests on.

- `hub/evidence_visobert_absa.py`: words and their scores from token scores, with the Hub code (the pipeline's
  `return_evidence=True` uses the model's own aspect attention).
- `attribution.py`: Integrated Gradients for any pooling (the `[attribution]` extra).
- `faithfulness.py`: how much a prediction depends on its evidence (ERASER comprehensiveness and sufficiency).
- `view.py`: reviews with their evidence highlighted, for people.
"""
