"""The checks around a bundle's inference run: its inputs and weights before, its outcome after."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
import torch
from monai.data import Dataset
from monai.networks.nets import UNet
from monai.transforms import LoadImaged

from monai_mammo.bundle import (
    AllInputsFailedError,
    TrainingStateError,
    check_checkpoint,
    check_inputs,
    check_outcome,
)
from monai_mammo.data import FailureSkippingDataLoader, MammoAutoReader
from monai_mammo.data.phantom import make_phantom, write_phantom_dicom

MAIN = "/venv/lib/python3.11/site-packages/monai/bundle/__main__.py"


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    return UNet(spatial_dims=2, in_channels=1, out_channels=1, channels=(4, 8), strides=(2,))


def test_inputs_a_folder_a_single_file_or_the_reason_why_not(tmp_path: Path) -> None:
    image = write_phantom_dicom(make_phantom((64, 64), seed=0), tmp_path / "images" / "a.dcm")
    check_inputs(tmp_path / "images")
    check_inputs(image)  # one file is an input too
    with pytest.raises(FileNotFoundError, match=r"'.*missing' does not exist.*--dataset_dir"):
        check_inputs(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match=r"no image files in '.*empty'.*\.dcm.*--dataset_dir"):
        check_inputs(tmp_path / "empty")


def test_a_missing_folder_exits_with_its_message_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", [MAIN, "run", "--config_file", "inference.json"])
    with pytest.raises(SystemExit) as info:
        check_inputs(tmp_path / "missing")
    assert str(info.value.code).startswith("error: input ") and "missing" in str(info.value.code)


def test_model_weights_pass(tmp_path: Path, net: torch.nn.Module) -> None:
    torch.save(net.state_dict(), tmp_path / "model.pt")
    check_checkpoint(tmp_path / "model.pt")
    torch.save({"model": net.state_dict()}, tmp_path / "wrapped.pt")  # CheckpointLoader's own key
    check_checkpoint(tmp_path / "wrapped.pt")


def test_a_training_state_is_recognised_and_model_pt_named(tmp_path: Path, net: torch.nn.Module) -> None:
    optimizer = torch.optim.Adam(net.parameters())
    state = {"network": net.state_dict(), "optimizer": optimizer.state_dict(), "trainer": {"epoch": 3}}
    torch.save(state, tmp_path / "checkpoint.pt")
    with pytest.raises(TrainingStateError) as info:
        check_checkpoint(tmp_path / "checkpoint.pt")
    message = str(info.value)
    assert "is a training state (network, optimizer, trainer)" in message
    assert f"torch.load('{tmp_path / 'checkpoint.pt'}')['network']" in message  # how to take the weights out
    torch.save(net.state_dict(), tmp_path / "model.pt")
    with pytest.raises(
        TrainingStateError, match=r"pass --checkpoint .*model\.pt, the model weights training"
    ):
        check_checkpoint(tmp_path / "checkpoint.pt")  # the weights beside it are named


def test_a_missing_or_unreadable_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"checkpoint '.*nothing.pt' does not exist.*--checkpoint"):
        check_checkpoint(tmp_path / "nothing.pt")
    (tmp_path / "notes.pt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match=r"notes.pt.*not a PyTorch checkpoint"):
        check_checkpoint(tmp_path / "notes.pt")


@pytest.fixture
def inputs(tmp_path: Path) -> list[dict[str, str]]:
    good = write_phantom_dicom(make_phantom((64, 64), seed=0), tmp_path / "good.dcm")
    (tmp_path / "notes.dcm").write_text("not a mammogram")
    (tmp_path / "other.dcm").write_text("not one either")
    return [{"image": str(p)} for p in (good, tmp_path / "notes.dcm", tmp_path / "other.dcm")]


def loader_over(items: list[dict[str, str]], report: Path) -> FailureSkippingDataLoader:
    loader = FailureSkippingDataLoader(
        Dataset(items, LoadImaged(keys="image", reader=MammoAutoReader())), keys="image", report_path=report
    )
    assert len(list(loader)) == len([d for d in items if "good" in d["image"]])
    return loader


def test_outcome_some_failed_is_the_last_line(
    inputs: list[dict[str, str]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loader = loader_over(inputs, tmp_path / "out" / "failures.json")
    with caplog.at_level(logging.INFO):
        check_outcome(loader)
    last = caplog.records[-1]
    assert last.levelno == logging.WARNING
    assert "2 of 3 input image(s) could not be read" in last.getMessage()
    assert str(tmp_path / "out" / "failures.json") in last.getMessage()


def test_outcome_all_failed_raises(inputs: list[dict[str, str]], tmp_path: Path) -> None:
    loader = loader_over(inputs[1:], tmp_path / "failures.json")
    with pytest.raises(AllInputsFailedError) as info:
        check_outcome(loader)
    message = str(info.value)
    assert "none of the 2 input image(s) could be read" in message
    assert str(tmp_path / "failures.json") in message and "notes.dcm" in message  # where, and the first
    assert json.loads((tmp_path / "failures.json").read_text())["n_failed"] == 2


def test_outcome_all_read_says_nothing(
    inputs: list[dict[str, str]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    loader = loader_over(inputs[:1], tmp_path / "failures.json")
    with caplog.at_level(logging.INFO, logger="monai_mammo"):
        check_outcome(loader)
    assert not [r for r in caplog.records if r.name.startswith("monai_mammo.bundle.run_checks")]
