#!/usr/bin/env python
"""Publish a hf-visobert-absa training run to the Hugging Face Hub.

    python push_to_hub.py --checkpoint RUN_DIR --repo-id ORG/NAME [--private] [--revision BRANCH | --create-pr]
                          [--commit-message MESSAGE] [--dry-run]

Exports the run (allow-listed files only, model card included), verifies the folder in a clean process, then
calls `HfApi.create_repo(exist_ok=True)` and `HfApi.upload_folder`. The token comes from HF_TOKEN or the stored
login, never from the command line. `--help` lists every option with examples; the logic lives in
`hf_visobert_absa/publishing/push.py`.
"""

from __future__ import annotations

import sys

from hf_visobert_absa.publishing.push import main

if __name__ == "__main__":
    sys.exit(main())
