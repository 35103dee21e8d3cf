"""`push_to_hub.py`: `--dry-run` end to end, the upload path against a mocked `HfApi` (repo creation, uploaded
files, the token reaching the call but no log line), and every error case with its message and exit code."""

from __future__ import annotations

import logging
import runpy
import sys
from pathlib import Path
from types import SimpleNamespace

import huggingface_hub
import pytest
from huggingface_hub import constants
from huggingface_hub.errors import HfHubHTTPError

import hf_visobert_absa.publishing.export as export_module
from hf_visobert_absa.publishing.hub_files import CODE_FILES
from hf_visobert_absa.publishing.push import main
from tests import helpers
from tests.helpers import save_tiny_checkpoint

SCRIPT = helpers.ROOT / "push_to_hub.py"
FAKE_TOKEN = "hf_FakeTokenForTests0123456789abcdefXYZ"
REPO = "my-org/tiny-absa"
EXPECTED_FILES = sorted(
    {"README.md", "config.json", "model.safetensors", "metrics.json", "tokenizer.json", "tokenizer_config.json"}
    | CODE_FILES
)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return save_tiny_checkpoint(tmp_path_factory.mktemp("run") / "model")


class FakeHfApi:
    """Records what the publisher asks of the Hub; what the folder held is captured at upload time."""

    calls: list[tuple[str, dict]] = []
    fail_with: Exception | None = None

    def __init__(self, token=None, **kwargs):
        FakeHfApi.calls.append(("init", {"token": token, **kwargs}))

    def create_repo(self, repo_id, **kwargs):
        FakeHfApi.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        if FakeHfApi.fail_with is not None:
            raise FakeHfApi.fail_with

    def create_branch(self, repo_id, **kwargs):
        FakeHfApi.calls.append(("create_branch", {"repo_id": repo_id, **kwargs}))

    def upload_folder(self, **kwargs):
        folder = Path(kwargs["folder_path"])
        files = {p.name: p.read_bytes() for p in folder.iterdir()}
        FakeHfApi.calls.append(("upload_folder", {**kwargs, "files": sorted(files), "contents": files}))
        url = f"https://huggingface.co/{kwargs['repo_id']}"
        return SimpleNamespace(
            commit_url=f"{url}/commit/abc123", pr_url=f"{url}/discussions/1" if kwargs.get("create_pr") else None
        )


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """A mocked Hub: online, `HfApi` replaced, no token anywhere unless a test sets one, verification skipped
    (the clean-process check is covered by the dry-run test and tests/publishing/test_export.py)."""
    FakeHfApi.calls, FakeHfApi.fail_with = [], None
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no_login" / "token"))
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(export_module, "verify_folder", lambda folder, expected, **kwargs: {})
    return FakeHfApi


def _calls(name):
    return [kwargs for call, kwargs in FakeHfApi.calls if call == name]


@pytest.mark.subprocess
def test_dry_run_end_to_end(checkpoint, tmp_path, monkeypatch, capsys):
    def no_hub(*args, **kwargs):
        raise AssertionError("--dry-run must not contact the Hub")

    monkeypatch.setattr(huggingface_hub, "HfApi", no_hub)
    out = tmp_path / "staged"
    argv = [
        "push_to_hub.py",
        "--checkpoint",
        str(checkpoint),
        "--repo-id",
        REPO,
        "--dry-run",
        "--out-dir",
        str(out),
        "--dataset",
        "phone_reviews",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert done.value.code == 0
    printed = capsys.readouterr().out
    assert f"staged {len(EXPECTED_FILES)} files" in printed
    assert all(f"  {name}\n" in printed for name in EXPECTED_FILES)
    assert "model card: tiny-absa" in printed and "model-index: 6 results" in printed
    assert "verified in a clean process" in printed and f"dry run: nothing uploaded to {REPO}" in printed
    assert sorted(p.name for p in out.iterdir()) == EXPECTED_FILES


def test_upload_creates_the_repo_and_uploads_only_the_staged_files(hub, checkpoint, monkeypatch, caplog, capsys):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    with caplog.at_level(logging.DEBUG):
        code = main(["--checkpoint", str(checkpoint), "--repo-id", REPO, "--private", "--commit-message", "first"])
    assert code == 0
    assert _calls("init") == [{"token": FAKE_TOKEN}]  # the token reaches the Hub client ...
    assert _calls("create_repo") == [{"repo_id": REPO, "repo_type": "model", "private": True, "exist_ok": True}]
    assert _calls("create_branch") == []
    (upload,) = _calls("upload_folder")
    assert upload["files"] == EXPECTED_FILES
    assert (upload["repo_id"], upload["repo_type"], upload["commit_message"]) == (REPO, "model", "first")
    assert upload["revision"] is None and upload["create_pr"] is False
    assert not Path(upload["folder_path"]).exists()  # the temporary staging folder is gone
    printed = capsys.readouterr()
    assert f"uploaded to {REPO}: https://huggingface.co/{REPO}/commit/abc123" in printed.out
    # ... and nowhere else: no log record, no output, no staged file
    assert caplog.records and all(FAKE_TOKEN not in record.getMessage() for record in caplog.records)
    assert FAKE_TOKEN not in caplog.text and FAKE_TOKEN not in printed.out + printed.err
    assert all(FAKE_TOKEN.encode() not in content for content in upload["contents"].values())


def test_stored_login_is_used_when_hf_token_is_unset(hub, checkpoint, tmp_path, monkeypatch):
    token_file = tmp_path / "login" / "token"
    token_file.parent.mkdir()
    token_file.write_text(FAKE_TOKEN)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(token_file))
    assert main(["--checkpoint", str(checkpoint), "--repo-id", REPO]) == 0
    assert _calls("init") == [{"token": FAKE_TOKEN}]
    assert _calls("create_repo")[0]["private"] is False


def test_branch_and_pull_request_targets(hub, checkpoint, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    assert main(["--checkpoint", str(checkpoint), "--repo-id", REPO, "--revision", "experiment-1"]) == 0
    assert _calls("create_branch") == [
        {"repo_id": REPO, "branch": "experiment-1", "repo_type": "model", "exist_ok": True}
    ]
    assert _calls("upload_folder")[0]["revision"] == "experiment-1"

    FakeHfApi.calls = []
    assert main(["--checkpoint", str(checkpoint), "--repo-id", REPO, "--create-pr"]) == 0
    upload = _calls("upload_folder")[0]
    assert upload["create_pr"] is True and upload["revision"] is None and _calls("create_branch") == []
    assert f"https://huggingface.co/{REPO}/discussions/1" in capsys.readouterr().out

    with pytest.raises(SystemExit) as done:
        main(["--checkpoint", str(checkpoint), "--repo-id", REPO, "--revision", "b", "--create-pr"])
    assert done.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def _run(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().err


def test_no_token(hub, checkpoint, capsys):
    code, err = _run(["--checkpoint", str(checkpoint), "--repo-id", REPO], capsys)
    assert code == 2 and "No Hugging Face token: set the HF_TOKEN environment variable" in err
    assert "hf auth login" in err and FakeHfApi.calls == []


@pytest.mark.parametrize("repo_id", ["visobert-absa", "a/b/c", "my-org/bad--name", "my-org/has space", "/name", "org/"])
def test_malformed_repo_id(hub, checkpoint, capsys, repo_id):
    code, err = _run(["--checkpoint", str(checkpoint), "--repo-id", repo_id], capsys)
    assert code == 2
    assert f"`--repo-id` got {repo_id!r}" in err and "Example: `--repo-id my-org/visobert-absa-phone`" in err


def test_checkpoint_missing_or_not_visobert_absa(hub, tmp_path, capsys):
    code, err = _run(["--checkpoint", str(tmp_path / "nope"), "--repo-id", REPO], capsys)
    assert code == 2 and "nope does not exist" in err
    other = tmp_path / "bert"
    other.mkdir()
    (other / "config.json").write_text('{"model_type": "bert"}')
    code, err = _run(["--checkpoint", str(other), "--repo-id", REPO, "--dry-run"], capsys)
    assert code == 2 and "holds a 'bert' model, not a visobert_absa model" in err


def test_offline_mode(hub, checkpoint, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, err = _run(["--checkpoint", str(checkpoint), "--repo-id", REPO], capsys)
    assert code == 2 and "Offline mode is on (HF_HUB_OFFLINE=1)" in err and "--dry-run" in err
    assert FakeHfApi.calls == [] and FAKE_TOKEN not in err


def test_network_unreachable(hub, checkpoint, monkeypatch, capsys):
    """A real `HfApi` against a closed local port: the connection is refused."""
    monkeypatch.setattr(huggingface_hub, "HfApi", huggingface_hub.hf_api.HfApi)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    code, err = _run(["--checkpoint", str(checkpoint), "--repo-id", REPO], capsys)
    assert code == 2 and "The Hub is unreachable" in err and "nothing was uploaded" in err
    assert FAKE_TOKEN not in err


def test_token_rejected(hub, checkpoint, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    response = SimpleNamespace(status_code=401, headers={}, request=None)
    FakeHfApi.fail_with = HfHubHTTPError("401 Unauthorized", response=response)
    code, err = _run(["--checkpoint", str(checkpoint), "--repo-id", REPO], capsys)
    assert code == 2 and "The Hub refused the token (HTTP 401)" in err and FAKE_TOKEN not in err
    assert _calls("upload_folder") == []


def test_help_lists_examples(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "--dry-run" in out and "HF_TOKEN" in out


@pytest.mark.parametrize("argv", [["--token", "hf_FAKEsecret123"], ["hf_FAKEsecret123"]])
def test_a_token_on_the_command_line_is_never_echoed(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--checkpoint", "run", "--repo-id", "a/b", *argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "hf_FAKEsecret123" not in err and "hf_***" in err
    assert "never accepted on the command line" in err


@pytest.mark.parametrize("dataset", ["my data set", "../data/train.csv", "a/b/c"])
def test_a_dataset_that_is_no_known_name_and_no_hub_id_is_refused(dataset, checkpoint, capsys):
    code = main(["--checkpoint", str(checkpoint), "--repo-id", "a/b", "--dataset", dataset, "--dry-run"])
    assert code == 2 and f"`--dataset` got {dataset!r}; allowed: phone_reviews" in capsys.readouterr().err
