"""Publish a trained run to the Hugging Face Hub: export + verify, then `create_repo` and `upload_folder`.

The logic behind the top-level `push_to_hub.py`. The token comes from `HF_TOKEN` or the stored login
(`hf auth login`) through `huggingface_hub.get_token()`, never from the command line; it is handed to `HfApi`
and never printed, logged or written. `Trainer.push_to_hub` is not used: it uploads `training_args.bin` (a
pickle) and overwrites the model card.

Exit codes: 0 done, 2 bad input or an environment that cannot publish (no token, malformed repo id, checkpoint
missing or not a visobert_absa model, offline mode, network unreachable, token rejected), 1 anything else.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

from ..errors import AbsaInputError

logger = logging.getLogger(__name__)

EXAMPLES = """examples:
  # stage, verify and show what would be uploaded (no token needed)
  python push_to_hub.py --checkpoint runs/phone/model --repo-id my-org/visobert-absa-phone --dry-run

  # publish (token from HF_TOKEN or `hf auth login`)
  python push_to_hub.py --checkpoint runs/phone/model --repo-id my-org/visobert-absa-phone --private \\
      --dataset phone_reviews --commit-message "ViSoBERT ABSA, phone reviews, seed 42"

  # publish to a branch, or open a pull request instead of committing to main
  python push_to_hub.py --checkpoint runs/phone/model --repo-id my-org/visobert-absa-phone --revision experiment-1
  python push_to_hub.py --checkpoint runs/phone/model --repo-id my-org/visobert-absa-phone --create-pr
"""

_TRUE = {"1", "true", "yes", "on"}


class PublishError(AbsaInputError):
    """The environment or the arguments cannot publish (exit code 2)."""


class _RedactingParser(argparse.ArgumentParser):
    """An argument parser whose usage errors never echo a token (`hf_...`) given on the command line."""

    def error(self, message: str) -> NoReturn:
        redacted = re.sub(r"hf_\w+", "hf_***", message)
        if redacted != message or "--token" in message:
            redacted += " (a token is never accepted on the command line: set HF_TOKEN or run `hf auth login`)"
        super().error(redacted)


def build_parser() -> argparse.ArgumentParser:
    parser = _RedactingParser(
        prog="push_to_hub.py",
        description="Export a hf-visobert-absa run, verify it in a clean process and upload it to the Hub.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--checkpoint",
        required=True,
        help="the model folder `train` writes (RUN_DIR/model: config.json, model.safetensors, tokenizer)",
    )
    parser.add_argument("--repo-id", required=True, help="ORG/NAME of the model repository")
    parser.add_argument(
        "--private", action="store_true", help="create the repository private (an existing one keeps its visibility)"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--revision", metavar="BRANCH", help="commit to this branch (created if needed) instead of main"
    )
    target.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing")
    parser.add_argument("--commit-message", default=None, help="commit message (default names the package version)")
    parser.add_argument(
        "--dry-run", action="store_true", help="stage and verify only; print the files and the card summary"
    )
    parser.add_argument("--out-dir", help="keep the staged folder here (a new or empty folder); default: a temp folder")
    parser.add_argument("--dataset", help="training data for the card: phone_reviews, uit_visfd or a Hub dataset id")
    parser.add_argument("--dataset-split", default="test", help="split the metrics were computed on (default: test)")
    parser.add_argument("--license", help="licence identifier for the card, e.g. apache-2.0")
    parser.add_argument("--model-name", help="title of the model card (default: the repository name)")
    return parser


def check_repo_id(repo_id: str) -> str:
    """Return `repo_id` if it is a well-formed `ORG/NAME`, else raise [`PublishError`] saying how to fix it."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    problem = None
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        problem = "it must have the form ORG/NAME (your user or organisation name, a slash, the model name)"
    else:
        try:
            validate_repo_id(repo_id)
        except HFValidationError as error:
            problem = str(error)
    if problem:
        raise PublishError(
            f"`--repo-id` got {repo_id!r}: {problem}. Allowed: letters, digits, '-', '_' and '.', at most 96 "
            "characters, no '--' or '..'. Example: `--repo-id my-org/visobert-absa-phone`."
        )
    return repo_id


def hub_offline() -> bool:
    """Whether Hugging Face Hub offline mode is on (`HF_HUB_OFFLINE`)."""
    from huggingface_hub import constants

    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE or bool(constants.HF_HUB_OFFLINE)


def hub_token() -> str:
    """The Hub token from `HF_TOKEN` or the stored login; `PublishError` (with how to set one) when there is none."""
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise PublishError(
            "No Hugging Face token: set the HF_TOKEN environment variable to a token with write access, or run "
            "`hf auth login` once. The token is never accepted on the command line."
        )
    return token


def _is_network_error(error: BaseException) -> bool:
    """A failure to reach the Hub: a connection or timeout error of Python or of the HTTP client in use
    (`huggingface_hub` has used requests, httpx and httpx2; their transport errors share these class names)."""
    names = {"TransportError", "ConnectError", "ConnectionError", "ConnectTimeout", "Timeout", "TimeoutException"}
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, (ConnectionError, TimeoutError)) or any(c.__name__ in names for c in type(seen).__mro__):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _upload(args: argparse.Namespace, folder: Path, token: str) -> Any:
    """`create_repo(exist_ok=True)`, the branch if asked, then `upload_folder`; network failures become
    [`PublishError`] (exit 2)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    from .. import __version__

    api = HfApi(token=token)
    message = args.commit_message or f"Upload ViSoBERT aspect-sentiment model (hf-visobert-absa {__version__})"
    try:
        api.create_repo(args.repo_id, repo_type="model", private=args.private, exist_ok=True)
        if args.revision:
            api.create_branch(args.repo_id, branch=args.revision, repo_type="model", exist_ok=True)
        return api.upload_folder(
            repo_id=args.repo_id,
            repo_type="model",
            folder_path=str(folder),
            commit_message=message,
            revision=args.revision,
            create_pr=args.create_pr,
        )
    except OfflineModeIsEnabled as error:
        raise PublishError("Offline mode is on (HF_HUB_OFFLINE=1): unset it to publish.") from error
    except HfHubHTTPError as error:
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status in (401, 403):
            raise PublishError(
                f"The Hub refused the token (HTTP {status}): it is invalid or lacks write access to "
                f"{args.repo_id!r}. Create a write token at https://huggingface.co/settings/tokens."
            ) from error
        raise
    except Exception as error:
        if not _is_network_error(error):
            raise
        raise PublishError(
            f"The Hub is unreachable ({type(error).__name__}). Check the network connection (and HF_ENDPOINT if "
            "set), then run again; nothing was uploaded."
        ) from error


def publish(args: argparse.Namespace) -> int:
    """Run the publication described by parsed `args`; returns the exit code."""
    from .export import check_dataset_name, export_model, inspect_checkpoint
    from .model_card import card_summary

    check_repo_id(args.repo_id)
    check_dataset_name(args.dataset)
    inspect_checkpoint(args.checkpoint)
    token = None
    if not args.dry_run:
        if hub_offline():
            raise PublishError("Offline mode is on (HF_HUB_OFFLINE=1): unset it to publish, or use --dry-run.")
        token = hub_token()
    with tempfile.TemporaryDirectory(prefix="visobert_absa_publish_") as tmp:
        folder = Path(args.out_dir) if args.out_dir else Path(tmp) / args.repo_id.split("/")[-1]
        result = export_model(
            args.checkpoint,
            folder,
            repo_id=args.repo_id,
            model_name=args.model_name,
            dataset=args.dataset,
            dataset_split=args.dataset_split,
            license=args.license,
        )
        print(f"staged {len(result.files)} files in {folder}:")
        for name in result.files:
            print(f"  {name}")
        print(card_summary(result.card))
        print("verified in a clean process: logits and pipeline outputs identical to the in-process model")
        if args.dry_run:
            kept = f"kept in {folder}" if args.out_dir else "removed (pass --out-dir to keep it)"
            print(f"dry run: nothing uploaded to {args.repo_id}; the staged folder is {kept}")
            return 0
        commit = _upload(args, folder, token)
    where = getattr(commit, "pr_url", None) or getattr(commit, "commit_url", None) or args.repo_id
    print(f"uploaded to {args.repo_id}: {where}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of `push_to_hub.py`."""
    from .export import ExportError

    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return publish(args)
    except AbsaInputError as error:
        print(f"push_to_hub: error: {error}", file=sys.stderr)
        return 2
    except ExportError as error:
        print(f"push_to_hub: export failed: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - the last line of defence: say what failed, exit 1
        logger.debug("publication failed", exc_info=True)
        print(f"push_to_hub: failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


__all__ = ["PublishError", "build_parser", "check_repo_id", "hub_offline", "hub_token", "main", "publish"]
