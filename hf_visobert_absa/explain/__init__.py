"""`hf-visobert-absa explain`: the original design's three figures (architecture, a measured step timeline,
one pass vs two), and the small timing machinery they need."""
