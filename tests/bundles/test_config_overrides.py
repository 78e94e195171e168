"""The override files of both bundles (``multi_gpu_train.json``, ``evaluate.json``) name what they change.

An override key such as ``train#handlers#3#_disabled_`` addresses a list element by its position: inserting a
handler into train.json would make it silently change another one. Both bundles' multi-GPU runs instead set
the one id ``main_process`` (rank 0), which every logging handler of train.json reads in its ``_disabled_``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from monai.bundle import ConfigParser

REPO = Path(__file__).resolve().parents[2]
BUNDLES = sorted(p for p in (REPO / "bundles").iterdir() if (p / "configs" / "train.json").is_file())
OVERRIDE_FILES = [
    (bundle, name)
    for bundle in BUNDLES
    for name in ("multi_gpu_train.json", "evaluate.json")
    if (bundle / "configs" / name).is_file()
]
LOGGERS = ("StatsHandler", "TensorBoardStatsHandler", "ignite.handlers.ProgressBar")


def list_index_in(key: str, base: Any) -> str | None:
    """The first part of the ``#``-path ``key`` that is a position in a list of ``base`` (or a number)."""
    node = base
    for part in key.split("#"):
        if part.isdigit() or isinstance(node, list):
            return part
        if not isinstance(node, dict) or part not in node:
            return None  # a new id: nothing of train.json below it
        node = node[part]
    return None


def test_bundles_are_found() -> None:
    assert {b.name for b in BUNDLES} >= {"mammo_lesion_segmentation", "mammo_classification"}
    assert {name for _, name in OVERRIDE_FILES} == {"multi_gpu_train.json", "evaluate.json"}


@pytest.mark.parametrize("bundle, name", OVERRIDE_FILES, ids=lambda x: getattr(x, "name", x))
def test_no_override_addresses_a_list_element_by_index(bundle: Path, name: str) -> None:
    base = json.loads((bundle / "configs" / "train.json").read_text())
    overrides = json.loads((bundle / "configs" / name).read_text())
    by_index = {key: list_index_in(key, base) for key in overrides}
    assert {k: v for k, v in by_index.items() if v is not None} == {}


def test_the_list_index_check_finds_an_index() -> None:
    base = {"train": {"handlers": [{"_target_": "A"}, {"_target_": "B"}]}, "progress": False}
    assert list_index_in("train#handlers#1#_disabled_", base) == "1"
    assert list_index_in("train#handlers#first", base) == "first"
    assert list_index_in("train#sampler", base) is None
    assert list_index_in("progress", base) is None


def logging_handlers(parser: ConfigParser) -> list[str]:
    """The ids of the logging handlers (stats, TensorBoard, progress bar) in train.json's handler lists."""
    found = []
    for section in ("train", "validate"):
        for i, handler in enumerate(parser[section]["handlers"]):
            if isinstance(handler, dict) and handler.get("_target_") in LOGGERS:
                found.append(f"{section}#handlers#{i}")
    return found


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda b: b.name)
@pytest.mark.parametrize("main_process", [True, False])
def test_only_the_main_process_logs(bundle: Path, main_process: bool) -> None:
    parser = ConfigParser()
    parser.read_config(str(bundle / "configs" / "train.json"))
    parser["main_process"] = main_process
    parser["progress"] = True
    ids = logging_handlers(parser)
    assert len(ids) == 5  # train: progress bar, stats, TensorBoard; validate: stats, TensorBoard
    assert [parser.get_parsed_content(f"{i}#_disabled_") for i in ids] == [not main_process] * 5


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda b: b.name)
def test_multi_gpu_training_sets_the_main_process_to_rank_0(bundle: Path) -> None:
    parser = ConfigParser()
    parser.read_config(
        [str(bundle / "configs" / "train.json"), str(bundle / "configs" / "multi_gpu_train.json")]
    )
    assert parser["main_process"] == "$dist.get_rank() == 0"
