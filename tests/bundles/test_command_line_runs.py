"""Both inference bundles on the command line, as a new user meets them: a mistyped override, a wrong path,
the training state for weights, a file that lies about its type, failed inputs, and what the log shows.

Each test runs ``python -m monai.bundle run --config_file bundles/<name>/configs/inference.json ...`` from
the repository root and reads its exit status and output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from bundle_helpers import REPO, run_bundle
from PIL import Image

BUNDLES = ["mammo_lesion_segmentation", "mammo_classification"]
# smaller images where a test processes one: what is checked is the run, not the model
SMALL = {"mammo_classification": ["--image_size", "[128, 104]"], "mammo_lesion_segmentation": []}


def config(bundle: str) -> str:
    return f"bundles/{bundle}/configs/inference.json"


def sample_images(bundle: str) -> list[Path]:
    return sorted((REPO / "bundles" / bundle / "sample" / "images").glob("*.dcm"))


def user_lines(text: str) -> list[str]:
    """The lines of ``text`` but MONAI's own warning about configs running code (printed by every run)."""
    lines = text.splitlines()
    shown = []
    for k, line in enumerate(lines):
        if "UserWarning: parsing config_file" in line:
            continue
        if k and "UserWarning: parsing config_file" in lines[k - 1] and line.startswith("  "):
            continue  # the source line the warning quotes
        shown.append(line)
    return shown


def outputs_of(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("bundle", BUNDLES)
def test_a_mistyped_override_stops_the_run_before_anything_is_done(bundle: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_bundle(config(bundle), "--output_dir", str(out), "--data_dir", str(tmp_path))
    assert result.returncode != 0
    assert user_lines(result.stderr) == ["error: unknown override --data_dir; did you mean --dataset_dir?"]
    assert outputs_of(out) == []  # the sample was not processed


@pytest.mark.parametrize("bundle", BUNDLES)
def test_a_missing_folder_is_the_one_line_the_user_reads(bundle: str, tmp_path: Path) -> None:
    missing = tmp_path / "no_such_folder"
    result = run_bundle(config(bundle), "--output_dir", str(tmp_path / "out"), "--dataset_dir", str(missing))
    assert result.returncode != 0
    assert user_lines(result.stderr) == [
        f"error: input '{missing}' does not exist (set --dataset_dir to a folder of mammograms or one image)."
    ]
    assert "Traceback" not in result.stdout


@pytest.mark.parametrize("bundle", BUNDLES)
def test_a_training_state_for_checkpoint_names_model_pt(bundle: str, tmp_path: Path) -> None:
    weights = torch.load(REPO / "bundles" / bundle / "models" / "model.pt", weights_only=True)
    state = {"network": weights, "optimizer": {"state": {}, "param_groups": []}, "trainer": {"epoch": 2}}
    torch.save(state, tmp_path / "checkpoint.pt")
    torch.save(weights, tmp_path / "model.pt")
    result = run_bundle(
        config(bundle), "--output_dir", str(tmp_path / "out"), "--checkpoint", str(tmp_path / "checkpoint.pt")
    )
    assert result.returncode != 0
    [line] = user_lines(result.stderr)
    assert line.startswith(f"error: checkpoint '{tmp_path / 'checkpoint.pt'}' is a training state")
    assert str(tmp_path / "model.pt") in line and "Missing key" not in result.stdout + result.stderr


@pytest.mark.parametrize("bundle", BUNDLES)
def test_when_every_input_fails_the_run_fails(bundle: str, tmp_path: Path) -> None:
    inputs, out = tmp_path / "inputs", tmp_path / "out"
    inputs.mkdir()
    (inputs / "notes.dcm").write_text("not a mammogram")
    Image.fromarray(np.full((64, 48), 100, np.uint8)).save(inputs / "photo.dcm", format="JPEG")
    result = run_bundle(config(bundle), "--output_dir", str(out), "--dataset_dir", str(inputs))
    assert result.returncode != 0
    [line] = user_lines(result.stderr)
    assert line.startswith("error: none of the 2 input image(s) could be read; the list is in ")
    assert str(out / "failures.json") in line
    failures = {
        Path(f["source"]).name: f["message"]
        for f in json.loads((out / "failures.json").read_text())["failures"]
    }
    assert (
        "its content is a JPEG image" in failures["photo.dcm"]
        and "rename it to photo.jpg" in failures["photo.dcm"]
    )


@pytest.mark.parametrize("bundle", BUNDLES)
def test_some_inputs_failing_is_the_last_line_and_codec_notices_are_gone(bundle: str, tmp_path: Path) -> None:
    inputs, out = tmp_path / "inputs", tmp_path / "out"
    inputs.mkdir()
    good = sample_images(bundle)[0]
    shutil.copy(good, inputs / good.name)
    (inputs / "notes.dcm").write_text("not a mammogram")
    result = run_bundle(
        config(bundle), "--output_dir", str(out), "--dataset_dir", str(inputs), *SMALL[bundle]
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    assert "WARNING" in last and "1 of 2 input image(s) could not be read and were skipped" in last
    assert last.endswith(f"the list is in {out / 'failures.json'}.")
    assert good.stem in outputs_of(out)
    assert "nvImageCodec" not in result.stdout + result.stderr  # MONAI's notice about a reader not used
    assert user_lines(result.stderr) == []  # no other warning either


@pytest.mark.parametrize("bundle", BUNDLES)
def test_dataset_dir_may_be_one_image(bundle: str, tmp_path: Path) -> None:
    image = sample_images(bundle)[-1]
    out = tmp_path / "out"
    result = run_bundle(config(bundle), "--output_dir", str(out), "--dataset_dir", str(image), *SMALL[bundle])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert image.stem in outputs_of(out)
    assert json.loads((out / "failures.json").read_text())["n_items"] == 1
