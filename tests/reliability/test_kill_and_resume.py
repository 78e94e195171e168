"""Crash-safe training: ``kill -9`` the segmentation bundle's training mid-epoch, resume it with the
documented command (the same command plus ``--resume true``), and compare with an uninterrupted run of the
same seed.

The run is the real ``bundles/mammo_lesion_segmentation/configs/train.json`` through ``python -m monai.bundle
run``, on 24 tiny phantom mammograms (96 x 80 pixels, 32-pixel patches, 3 epochs of about 14 iterations).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from monai_mammo.data.phantom import write_phantom_dataset

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "bundles" / "mammo_lesion_segmentation" / "configs"
EPOCHS = 3
KILL_AT = (2, 3)  # (epoch, iteration): killed once this iteration of epoch 2 has been logged
TINY = {
    "image_size": 96,
    "patch_size": [32, 32],
    "roi_size": [64, 64],
    "num_samples": 2,
    "batch_size": 1,
    "epochs": EPOCHS,
    "seed": 0,
}
ITERATION = re.compile(r"Epoch: (\d+)/\d+, Iter: (\d+)/(\d+)")
RESULT_FILE = os.environ.get("MONAI_MAMMO_RELIABILITY_RESULTS")  # optional: where to record the figures


def train_command(datalist: Path, output_dir: Path, **override: object) -> list[str]:
    """``python -m monai.bundle run`` of train.json, with the tiny sizes and ``override``."""
    args = []
    for key, value in {**TINY, **override}.items():
        args += [f"--{key}", json.dumps(value) if isinstance(value, list) else str(value)]
    return [
        sys.executable,
        "-m",
        "monai.bundle",
        "run",
        "--config_file",
        str(CONFIGS / "train.json"),
        "--meta_file",
        str(CONFIGS / "metadata.json"),
        "--logging_file",
        str(CONFIGS / "logging.conf"),
        "--datalist",
        str(datalist),
        "--output_dir",
        str(output_dir),
        *args,
    ]


def start(command: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "PYTHONUNBUFFERED": "1"}
    handle = log.open("w")
    try:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT)
    finally:
        handle.close()  # the child keeps its own descriptor


def iterations(log: Path) -> list[tuple[int, int]]:
    """The (epoch, iteration in epoch) pairs the trainer logged, in order."""
    return [(int(m[1]), int(m[2])) for m in ITERATION.finditer(log.read_text())]


def finish(process: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    try:
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, log.read_text()[-4000:]


def network(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["network"]


@pytest.mark.timeout(600)
def test_kill_9_mid_epoch_then_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    datalist = write_phantom_dataset(tmp_path / "phantoms", n_images=24, shape=(96, 80), seed=1)
    reference_dir, crashed_dir = tmp_path / "uninterrupted", tmp_path / "crashed"
    # the uninterrupted run and the run to be killed go side by side
    reference = start(train_command(datalist, reference_dir), tmp_path / "uninterrupted.log")
    crashed_log = tmp_path / "crashed.log"
    crashed = start(train_command(datalist, crashed_dir), crashed_log)
    checkpoint = crashed_dir / "checkpoint.pt"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and crashed.poll() is None:
            if checkpoint.is_file() and KILL_AT in iterations(crashed_log):
                break
            time.sleep(0.01)
        assert crashed.poll() is None, (
            "the training finished or failed before it could be killed:\n" + (crashed_log.read_text()[-4000:])
        )
        assert checkpoint.is_file(), "no checkpoint within 300 s"
        os.kill(crashed.pid, signal.SIGKILL)
        crashed.wait(timeout=60)
    finally:
        if crashed.poll() is None:
            crashed.kill()
            crashed.wait()
    assert crashed.returncode == -signal.SIGKILL
    before_resume = iterations(crashed_log)
    epoch_length = int(ITERATION.search(crashed_log.read_text())[3])
    saved = torch.load(checkpoint, weights_only=True)
    # killed in the middle of epoch 2: the checkpoint is the complete one of epoch 1, nothing half-written
    assert saved["trainer"]["iteration"] == epoch_length
    assert (2, epoch_length) not in before_resume and KILL_AT in before_resume
    assert not [p.name for p in crashed_dir.iterdir() if p.suffix == ".tmp"]

    # the documented resume command: the same command plus --resume true
    resumed_log = tmp_path / "resumed.log"
    finish(start(train_command(datalist, crashed_dir, resume="true"), resumed_log), resumed_log)
    finish(reference, tmp_path / "uninterrupted.log")

    after_resume = iterations(resumed_log)
    expected = [(e, i) for e in range(2, EPOCHS + 1) for i in range(1, epoch_length + 1)]
    assert after_resume == expected  # epochs 2 and 3, each once: none lost, none repeated
    final = torch.load(checkpoint, weights_only=True)
    assert final["trainer"]["iteration"] == EPOCHS * epoch_length
    assert iterations(tmp_path / "uninterrupted.log") == [
        (e, i) for e in range(1, EPOCHS + 1) for i in range(1, epoch_length + 1)
    ]
    ours, theirs = network(checkpoint), network(reference_dir / "checkpoint.pt")
    assert ours.keys() == theirs.keys()
    differing = [k for k in ours if not torch.equal(ours[k], theirs[k])]
    assert differing == [], f"weights differ from the uninterrupted run in {differing}"
    assert torch.equal(
        final["optimizer"]["state"][0]["exp_avg"],
        torch.load(reference_dir / "checkpoint.pt", weights_only=True)["optimizer"]["state"][0]["exp_avg"],
    )
    best = torch.load(crashed_dir / "model.pt", weights_only=True)
    reference_best = torch.load(reference_dir / "model.pt", weights_only=True)
    assert all(torch.equal(best[k], reference_best[k]) for k in best)
    if RESULT_FILE:
        record = {
            "epoch_length": epoch_length,
            "killed_after": before_resume[-1],
            "resumed_iterations": len(after_resume),
            "identical_weights": not differing,
            "n_tensors": len(ours),
        }
        Path(RESULT_FILE).with_suffix(".resume.json").write_text(json.dumps(record, indent=1))
