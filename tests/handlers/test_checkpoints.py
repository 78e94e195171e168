"""ResumeCheckpoint and BestModelSaver on real Ignite engines."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from ignite.engine import Engine, Events

from monai_mammo.handlers import BestModelSaver, ResumeCheckpoint, save_state_atomic, state_of


def make_trainer(model: torch.nn.Module, optimizer: torch.optim.Optimizer, seen: list[int]) -> Engine:
    def step(engine: Engine, batch: torch.Tensor) -> float:
        optimizer.zero_grad()
        loss = model(batch).pow(2).mean()
        loss.backward()
        optimizer.step()
        seen.append(engine.state.iteration)
        return float(loss)

    return Engine(step)


DATA = [torch.ones(2, 3) * k for k in range(3)]  # three iterations per epoch


def test_resume_continues_after_the_last_saved_epoch(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    seen: list[int] = []
    trainer = make_trainer(model, optimizer, seen)
    ResumeCheckpoint(tmp_path, {"network": model, "optimizer": optimizer}).attach(trainer)
    trainer.add_event_handler(Events.EPOCH_COMPLETED(once=2), lambda e: e.terminate())  # interrupted
    trainer.run(DATA, max_epochs=4)
    weights_after_2 = model.weight.detach().clone()
    assert seen == list(range(1, 7))

    model2 = torch.nn.Linear(3, 1)
    optimizer2 = torch.optim.SGD(model2.parameters(), lr=0.1)
    seen2: list[int] = []
    trainer2 = make_trainer(model2, optimizer2, seen2)
    ResumeCheckpoint(tmp_path, {"network": model2, "optimizer": optimizer2}, resume=True).attach(trainer2)
    trainer2.run(DATA, max_epochs=4)
    assert seen2 == list(range(7, 13))  # epochs 3 and 4 only
    assert trainer2.state.epoch == 4
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert saved["trainer"]["iteration"] == 12
    assert not torch.equal(model2.weight, weights_after_2)  # it went on training from the saved weights


def test_resume_removes_what_a_killed_run_left_half_written(tmp_path: Path) -> None:
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    trainer = make_trainer(model, optimizer, [])
    ResumeCheckpoint(tmp_path, {"network": model}).attach(trainer)
    trainer.run(DATA, max_epochs=1)
    stale = [tmp_path / ".checkpoint.pt.k2x_9a0q.tmp", tmp_path / ".model.pt.abcdefgh.tmp"]
    kept = [tmp_path / "notes.tmp", tmp_path / ".checkpoint.pt.tmp", tmp_path / "checkpoint.pt"]
    for path in stale + kept[:2]:
        path.write_bytes(b"half a file")
    resumed = make_trainer(model, optimizer, [])
    ResumeCheckpoint(tmp_path, {"network": model}, resume=True).attach(resumed)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)  # only the names atomic_write_bytes gives are deleted


def test_save_interval_and_the_last_epoch(tmp_path: Path) -> None:
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    trainer = make_trainer(model, optimizer, [])
    saver = ResumeCheckpoint(tmp_path, {"network": model}, save_interval=2)
    saver.attach(trainer)
    epochs: list[int] = []
    trainer.add_event_handler(
        Events.EPOCH_COMPLETED,
        lambda e: (
            epochs.append(torch.load(saver.path, weights_only=True)["trainer"]["iteration"] // 3)
            if saver.path.exists()
            else epochs.append(0)
        ),
    )
    trainer.run(DATA, max_epochs=3)
    assert epochs == [0, 2, 3]


def test_resume_needs_a_checkpoint_and_reserves_the_trainer_key(tmp_path: Path) -> None:
    model = torch.nn.Linear(3, 1)
    with pytest.raises(FileNotFoundError, match="cannot resume"):
        ResumeCheckpoint(tmp_path, {"network": model}, resume=True).attach(Engine(lambda e, b: None))
    with pytest.raises(ValueError, match="reserved"):
        ResumeCheckpoint(tmp_path, {"trainer": model})
    with pytest.raises(ValueError, match="save_interval"):
        ResumeCheckpoint(tmp_path, {"network": model}, save_interval=0)


def run_validation(saver: BestModelSaver, scores: list[float]) -> list[bool]:
    """One evaluator run per score; returns whether the model file changed each time."""
    evaluator = Engine(lambda e, b: None)
    saver.attach(evaluator)
    it = iter(scores)
    evaluator.add_event_handler(Events.EPOCH_STARTED, lambda e: e.state.metrics.update(dice=next(it)))
    changed = []
    for _ in scores:
        before = saver.path.stat().st_mtime_ns if saver.path.exists() else None
        evaluator.run([0], max_epochs=evaluator.state.max_epochs + 1 if evaluator.state.max_epochs else 1)
        changed.append(saver.path.exists() and saver.path.stat().st_mtime_ns != before)
    return changed


def test_best_model_saver_keeps_the_best(tmp_path: Path) -> None:
    mode, scores, expected = "max", [0.2, 0.1, 0.3], [True, False, True]
    model = torch.nn.Linear(3, 1)
    saver = BestModelSaver(tmp_path, {"model": model}, key_metric_name="dice", mode=mode)
    assert run_validation(saver, scores) == expected
    assert saver.state_dict()["best_score"] == pytest.approx(0.3)
    state = torch.load(tmp_path / "model.pt", weights_only=True)
    assert set(state) == {"weight", "bias"}  # a bare state_dict

    resumed = BestModelSaver(tmp_path, {"model": model}, key_metric_name="dice")
    resumed.load_state_dict(saver.state_dict())
    assert run_validation(resumed, [0.25]) == [False]  # not better than the best before the interruption


def test_best_model_saver_lower_is_better(tmp_path: Path) -> None:
    saver = BestModelSaver(tmp_path, {"model": torch.nn.Linear(3, 1)}, key_metric_name="dice", mode="min")
    assert run_validation(saver, [0.2, 0.3, 0.1]) == [True, False, True]
    assert saver.best_score == pytest.approx(0.1) and saver.best_epoch == 3


def test_best_model_saver_needs_the_metric(tmp_path: Path) -> None:
    saver = BestModelSaver(tmp_path, {"model": torch.nn.Linear(3, 1)}, key_metric_name="auc")
    with pytest.raises(KeyError, match="auc"):
        run_validation(saver, [0.5])
    with pytest.raises(ValueError, match="mode"):
        BestModelSaver(tmp_path, {"model": torch.nn.Linear(3, 1)}, mode="best")


def test_state_of_unwraps_data_parallel_and_save_is_atomic(tmp_path: Path) -> None:
    model = torch.nn.Linear(3, 1)
    assert set(state_of(torch.nn.DataParallel(model))) == {"weight", "bias"}
    with pytest.raises(TypeError, match="state_dict"):
        state_of(object())
    path = save_state_atomic(
        tmp_path / "x" / "ckpt.pt", {"a": model, "b": torch.optim.SGD(model.parameters(), 0.1)}
    )
    assert set(torch.load(path, weights_only=True)) == {"a", "b"}
    assert [p.name for p in path.parent.iterdir()] == ["ckpt.pt"]


@pytest.mark.parametrize("value, expected", [(True, True), ("False", False), (" yes ", True), (0, False)])
def test_resume_and_random_states_read_command_line_text(value: object, expected: bool) -> None:
    handler = ResumeCheckpoint(
        "unused", {"network": torch.nn.Linear(1, 1)}, resume=value, save_random_states=value
    )
    assert handler.resume is expected and handler.save_random_states is expected


@pytest.mark.parametrize("value", ["maybe", "", 2, None])
def test_a_flag_that_is_not_true_or_false_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="resume must be true or false"):
        ResumeCheckpoint("unused", {"network": torch.nn.Linear(1, 1)}, resume=value)
