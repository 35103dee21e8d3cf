"""`hf-visobert-absa demo`: train on the built-in Vietnamese sample, evaluate, save, reload in a clean process,
predict."""
