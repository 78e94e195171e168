"""PerImageHandler: the events it attaches, the logger it takes, the per-image items it gives a subclass."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import torch
from ignite.engine import Engine

from monai_mammo.handlers import (
    ClassificationReport,
    ClassificationWriter,
    PerImageHandler,
    SegmentationReport,
    SegmentationWriter,
)
from monai_mammo.handlers.per_image import per_image_batch


class Recorder(PerImageHandler):
    """Records what the base hands it: resets, the (item, data) pairs per iteration, completions."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.events: list[str] = []
        self.seen: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def _reset(self, engine: Any = None) -> None:
        self.events.append("reset")
        self.seen = []

    def __call__(self, engine: Any) -> None:
        self.events.append("iteration")
        self.seen.extend(self._items_with_data(engine))

    def _completed(self, engine: Any = None) -> None:
        self.events.append("completed")


def batches() -> list[dict[str, Any]]:
    """Two collated batches of two images each, with datalist fields the output does not carry."""
    return [
        {"image": torch.zeros(2, 1, 4, 4), "patient_id": ["p1", "p2"], "view": ["CC", "MLO"]},
        {"image": torch.ones(2, 1, 4, 4), "patient_id": ["p3", "p4"], "view": ["CC", "CC"]},
    ]


def evaluator(collated_output: bool) -> Engine:
    def step(engine: Engine, batch: dict[str, Any]) -> Any:
        pred = batch["image"].mean(dim=(1, 2, 3))
        view = ["MLO"] * len(pred)  # the output's key wins over the batch's
        if collated_output:
            return {"pred": pred, "view": view}
        return [{"pred": p, "view": v} for p, v in zip(pred, view)]

    return Engine(step)


@pytest.mark.parametrize("collated_output", [True, False])
def test_attach_resets_handles_each_iteration_and_completes(collated_output: bool) -> None:
    handler = Recorder()
    engine = evaluator(collated_output)
    handler.attach(engine)
    engine.run(batches(), max_epochs=1)
    assert handler.events == ["reset", "iteration", "iteration", "completed"]
    assert [data["patient_id"] for _, data in handler.seen] == ["p1", "p2", "p3", "p4"]
    assert [data["view"] for _, data in handler.seen] == ["MLO"] * 4
    assert all("patient_id" not in item for item, _ in handler.seen)
    assert [float(item["pred"]) for item, _ in handler.seen] == [0.0, 0.0, 1.0, 1.0]
    engine.run(batches(), max_epochs=1)  # a second run starts afresh
    assert handler.events[4:] == ["reset", "iteration", "iteration", "completed"]
    assert len(handler.seen) == 4


def test_output_transform_and_logger() -> None:
    handler = Recorder(output_transform=lambda output: [{"pred": p} for p in output["pred"]], name="mine")
    engine = evaluator(collated_output=True)
    handler.attach(engine)
    engine.run(batches()[:1], max_epochs=1)
    assert [set(item) for item, _ in handler.seen] == [{"pred"}, {"pred"}]
    assert handler.logger is logging.getLogger("mine")
    unnamed = Recorder()
    unnamed.attach(engine)
    assert unnamed.logger is engine.logger


def test_per_image_batch() -> None:
    listed = [{"a": 1}, {"a": 2}]
    assert per_image_batch(listed) is listed
    assert [d["patient_id"] for d in per_image_batch(batches()[0])] == ["p1", "p2"]
    assert per_image_batch(None) == [] and per_image_batch(torch.zeros(2, 3)) == []


def test_the_handlers_share_the_base(tmp_path: Any) -> None:
    for cls in (SegmentationWriter, SegmentationReport, ClassificationWriter, ClassificationReport):
        assert issubclass(cls, PerImageHandler)
        assert cls(tmp_path).logger is logging.getLogger(None)
    with pytest.raises(TypeError):
        PerImageHandler()  # abstract: _reset, __call__ and _completed are the subclass's
