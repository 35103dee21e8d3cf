"""Several processes with `torch.distributed` (gloo, CPU): the across-devices contrastive loss and DDP training.

- The across-devices gradient of 2 processes x B/2 (DDP-averaged) equals the single-process gradient on the
  full batch B (to 1e-5), for the combined default objective and for every contrastive mode alone; without
  the option it does not (the test can fail).
- `FocalContrastiveTrainer` under `torchrun --nproc_per_node 2` ends with identical weights on both ranks.
- Sharding the batch by hand (no processes) gives shares that sum to the full-batch loss and gradient.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file
from torch.nn import functional as F

from hf_visobert_absa.hub.contrastive_visobert_absa import multilabel_supcon_loss
from hf_visobert_absa.hub.losses_visobert_absa import compute_absa_loss
from tests import helpers
from tests import helpers as tiny_data
from tests.scripts import ddp_gradients

SCRIPTS = helpers.SCRIPTS
#: Two processes on this machine, as `torchrun --standalone --nproc_per_node 2`.
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]

MODES = ("mulsupcon", "jaccard", "any", "exact", "soft_agreement")


def _child_env() -> dict[str, str]:
    return helpers.script_env(OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")


def _run(command: list[str], timeout: int = 150, attempts: int = 2) -> subprocess.CompletedProcess:
    """Run a `torchrun` launch; one that has not ended after `timeout` s is killed with all its ranks and started
    again (at most `attempts` times). Rarely (about 1 launch in 10 on this 2-core machine under load, in
    `torch.distributed` teardown after every output was written) a gloo rank never exits; a second launch is
    independent. Two stalls in a row still fail the test."""
    for attempt in range(1, attempts + 1):
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_child_env(), start_new_session=True
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # torchrun and every rank it started
            process.communicate()
            if attempt == attempts:
                raise
            continue
        result = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
        assert result.returncode == 0, f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-4000:]}"
        return result
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------------------------------
# Shards without processes: the algebra the distributed path relies on.
# --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", (*MODES, "supcon"))
@pytest.mark.parametrize("shards", [2, 4])
def test_shard_shares_sum_to_the_full_batch_loss_and_gradient(mode, shards):
    torch.manual_seed(0)
    batch = 12
    z = F.normalize(torch.randn(batch, 6, dtype=torch.float64), dim=-1).requires_grad_()
    # Rows drawn from 4 label patterns, a few cells changed: exact matches, partial overlaps and absent cells.
    patterns = torch.randint(-1, 3, (4, 4))
    labels = patterns[torch.randint(0, 4, (batch,))]
    labels[torch.rand(batch, 4) < 0.15] = 1
    labels[labels < 0] = -100
    if mode == "supcon":
        labels = labels[:, 0]
    full = multilabel_supcon_loss(z, labels, temperature=0.2, mode=mode, num_classes=3)
    (full_grad,) = torch.autograd.grad(full, z)
    size = batch // shards
    shares = [
        multilabel_supcon_loss(
            z[s * size : (s + 1) * size],
            labels[s * size : (s + 1) * size],
            temperature=0.2,
            mode=mode,
            num_classes=3,
            candidates=z,
            candidate_labels=labels,
            anchor_offset=s * size,
        )
        for s in range(shards)
    ]
    total = torch.stack(shares).sum()
    (shard_grad,) = torch.autograd.grad(total, z)
    assert full.item() > 0
    torch.testing.assert_close(total, full, rtol=0, atol=1e-12)
    torch.testing.assert_close(shard_grad, full_grad, rtol=0, atol=1e-12)
    # Masking the wrong column (no self-exclusion at the global index) changes the loss.
    wrong = multilabel_supcon_loss(
        z[size:],
        labels[size:],
        temperature=0.2,
        mode=mode,
        num_classes=3,
        candidates=z,
        candidate_labels=labels,
        anchor_offset=0,
    )
    right = multilabel_supcon_loss(
        z[size:],
        labels[size:],
        temperature=0.2,
        mode=mode,
        num_classes=3,
        candidates=z,
        candidate_labels=labels,
        anchor_offset=size,
    )
    assert not torch.allclose(wrong, right)


def test_candidates_argument_errors():
    z = F.normalize(torch.randn(4, 3), dim=-1)
    y = torch.zeros(4, 2, dtype=torch.long)
    with pytest.raises(ValueError, match=r"`candidates` was given without `candidate_labels`"):
        multilabel_supcon_loss(z[:2], y[:2], candidates=z)
    with pytest.raises(ValueError, match=r"`candidate_labels` was given without `candidates`"):
        multilabel_supcon_loss(z[:2], y[:2], candidate_labels=y)
    with pytest.raises(ValueError, match=r"`anchor_offset` got 3; allowed: an int in \[0, 2\]"):
        multilabel_supcon_loss(z[:2], y[:2], candidates=z, candidate_labels=y, anchor_offset=3)
    with pytest.raises(ValueError, match=r"`candidates` must be \[N, D\] with D = 3"):
        multilabel_supcon_loss(z[:2], y[:2], candidates=torch.randn(4, 5), candidate_labels=y)
    with pytest.raises(ValueError, match=r"they must agree beyond the batch dimension"):
        multilabel_supcon_loss(z[:2], y[:2], candidates=z, candidate_labels=torch.zeros(4, 3, dtype=torch.long))


def test_across_devices_is_the_plain_loss_without_torch_distributed():
    """Option on, no process group: exactly the single-process loss (no gather, no scaling)."""
    torch.manual_seed(1)
    logits, z = torch.randn(6, 3, 4), F.normalize(torch.randn(6, 8), dim=-1)
    labels = torch.randint(0, 4, (6, 3))
    assert not torch.distributed.is_initialized()
    on = compute_absa_loss(logits, z, labels, helpers.loss_config(contrastive_across_devices=True))
    off = compute_absa_loss(logits, z, labels, helpers.loss_config(contrastive_across_devices=False))
    for a, b in zip(on, off, strict=True):
        assert torch.equal(a, b)


# --------------------------------------------------------------------------------------------------------------
# Two gloo processes.
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torchrun_run(tmp_path_factory):
    """One `torchrun --nproc_per_node 2` launch runs every distributed check (tests/scripts/ddp_train.py)."""
    out = tmp_path_factory.mktemp("torchrun")
    _run(
        [
            *TORCHRUN,
            str(SCRIPTS / "ddp_train.py"),
            str(out),
        ]
    )
    return out


@pytest.fixture(scope="module")
def ddp_gradients_run(torchrun_run):
    return torchrun_run, json.loads((torchrun_run / "gradients.json").read_text())


def _single_process_gradients(overrides: dict) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    model = tiny_data.build_model(overrides)
    output = model(**tiny_data.full_batch(model.config.label_scheme))
    output.loss.backward()
    return {n: p.grad for n, p in model.named_parameters() if p.grad is not None}, output


def _max_abs_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a)


@pytest.mark.distributed
@pytest.mark.parametrize("scenario", [s for s in ddp_gradients.SCENARIOS if "_across" in s])
def test_two_process_gradient_equals_single_process_full_batch(ddp_gradients_run, scenario):
    out, results = ddp_gradients_run
    overrides = ddp_gradients.SCENARIOS[scenario]
    reference, output = _single_process_gradients(overrides)
    ddp = load_file(str(out / f"{scenario}.safetensors"))
    assert max(g.abs().max().item() for g in reference.values()) > 1e-3  # a gradient worth comparing
    assert _max_abs_difference(ddp, reference) <= 1e-5
    # The mean over ranks of the returned contrastive term (and of the loss) is the full-batch value.
    per_rank = torch.tensor(results[scenario]["losses_per_rank"])  # [W, 3]: loss, focal, contrastive
    expected = torch.stack([output.loss, output.focal_loss, output.contrastive_loss]).detach()
    # The focal term is a per-rank mean: the mean over ranks is the global mean only when every rank holds the
    # same number of valid cells, as under absent_as_class where every cell counts (not under mentioned_only).
    every_cell_valid = overrides.get("label_scheme", "absent_as_class") == "absent_as_class"
    terms = [0, 1, 2] if every_cell_valid else [2] + ([0] if overrides.get("focal_weight") == 0.0 else [])
    torch.testing.assert_close(per_rank.mean(dim=0)[terms], expected[terms], rtol=0, atol=1e-5)


@pytest.mark.distributed
def test_without_the_option_the_two_process_gradient_differs(ddp_gradients_run):
    """The control: contrasting within each rank's half is a different objective."""
    out, _ = ddp_gradients_run
    reference, _ = _single_process_gradients(ddp_gradients.SCENARIOS["default_local"])
    local = load_file(str(out / "default_local.safetensors"))
    assert _max_abs_difference(local, reference) > 1e-3


@pytest.mark.distributed
def test_uneven_batches_raise_on_every_rank_and_no_grad_needs_no_peer(ddp_gradients_run):
    _, results = ddp_gradients_run
    for message in results["_uneven_errors"]:
        assert message == (
            "`contrastive_across_devices=True` needs the same per-device batch size on every rank; got [3, 5] "
            "(rank order). Keep `accelerate`'s default `even_batches=True`, or set `dataloader_drop_last=True`, "
            "or turn the option off."
        )
    assert results["_no_grad_alone_finite"] is True


@pytest.mark.distributed
def test_trainer_under_torchrun_ends_with_identical_weights_on_both_ranks(torchrun_run):
    tmp_path = torchrun_run
    rank0, rank1 = (load_file(str(tmp_path / f"rank{r}.safetensors")) for r in (0, 1))
    initial = load_file(str(tmp_path / "initial.safetensors"))
    assert rank0.keys() == rank1.keys() == initial.keys()
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
    assert any(not torch.equal(rank0[n], initial[n]) for n in rank0), "training did not change the weights"
    summary = json.loads((tmp_path / "rank0.json").read_text())
    assert summary["world_size"] == 2
    assert summary["gather_calls"] == 3  # one across-devices gather per training step
    steps = [entry for entry in summary["log_history"] if "loss" in entry]
    assert len(steps) == 3
    for entry in steps:
        for key in ("loss", "focal_loss", "contrastive_loss"):
            assert torch.isfinite(torch.tensor(entry[key])), (key, entry)


@pytest.mark.distributed
def test_cli_train_under_torchrun_writes_one_complete_run_folder(tmp_path):
    """The documented multi-process `train`: both ranks train, rank 0 alone writes the records, the reports and
    the tables, no rank removes the other's files (it raised FileNotFoundError on the marker), and both leave
    the process group before exiting."""
    encoder = helpers.save_tiny_encoder(tmp_path / "encoder")
    out = tmp_path / "run"
    result = _run(
        [
            *TORCHRUN,
            "-m",
            "hf_visobert_absa.cli.main",
            "train",
            "--encoder",
            str(encoder),
            "--data_dir",
            str(helpers.FIXTURES / "wide_words"),
            "--output_dir",
            str(out),
            "--num_train_epochs",
            "1",
            "--per_device_train_batch_size",
            "4",
            "--max_length",
            "32",
            "--use_cpu",
            "true",
            "--contrastive_across_devices",
            "true",
        ]
    )
    assert result.stdout.count("== validation ==") == 1 and result.stdout.count("trained in") == 1
    assert not (out / "RUN_INCOMPLETE.txt").exists()
    for name in ("dataset_report.json", "log_history.json", "metrics.json", "predictions_test.csv"):
        assert (out / name).is_file(), name
    for name in ("model.safetensors", "config.json", "tokenizer.json", "training_args.json", "metrics.json"):
        assert (out / "model" / name).is_file(), name
    assert {p.name for p in (out / "checkpoint-2").glob("rng_state_*.pth")} == {"rng_state_0.pth", "rng_state_1.pth"}
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"validation", "test"}
