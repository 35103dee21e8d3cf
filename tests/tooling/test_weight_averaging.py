"""The weight-averaging benchmark's pieces: the uniform average, the checkpoint order, and the greedy soup's rule
(an epoch joins only when validation does not drop)."""

from __future__ import annotations

import torch

from benchmarks.weight_averaging import average, epoch_checkpoints, greedy_soup


def test_average_is_elementwise_mean_and_keeps_integer_buffers():
    states = [
        {"w": torch.tensor([1.0, 2.0]), "ids": torch.tensor([0, 1])},
        {"w": torch.tensor([3.0, 6.0]), "ids": torch.tensor([5, 5])},
    ]
    out = average(states)
    torch.testing.assert_close(out["w"], torch.tensor([2.0, 4.0]))
    assert torch.equal(out["ids"], torch.tensor([0, 1]))


def test_epoch_checkpoints_sorted_numerically(tmp_path):
    for step in (172, 1032, 344):
        (tmp_path / f"checkpoint-{step}").mkdir()
    (tmp_path / "incomplete-checkpoint-9").mkdir()
    (tmp_path / "model").mkdir()
    assert [p.name for p in epoch_checkpoints(tmp_path)] == ["checkpoint-172", "checkpoint-344", "checkpoint-1032"]


def test_greedy_soup_keeps_only_members_that_do_not_lower_the_score():
    # score = minus the distance of the averaged weight from 2.0: averaging 1 and 3 helps, adding 10 hurts
    states = [{"w": torch.tensor([v])} for v in (1.0, 3.0, 10.0)]

    def scorer(state):
        return {"joint_micro_f1": -abs(float(state["w"]) - 2.0)}

    kept, best = greedy_soup(states, [0, 1, 2], scorer)
    assert kept == [0, 1]
    assert best["joint_micro_f1"] == 0.0
