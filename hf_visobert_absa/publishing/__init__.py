"""Publishing: `export` (a Hub-ready folder verified in a clean process), the model card, and `push_to_hub`."""
