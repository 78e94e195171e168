"""What the tests of both bundles run the same way: a ConfigWorkflow of a bundle, inputs with corrupt files, a
run from the bundle folder, multi-process training on gloo and the TorchScript export check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from ignite.engine import Events
from monai.bundle import ConfigParser, ConfigWorkflow, ckpt_export

REPO = Path(__file__).resolve().parents[2]

# a tiny training run of each bundle: small inputs and patches, one epoch, no worker processes
TINY_RUNS: dict[str, dict[str, Any]] = {
    "mammo_classification": {
        "image_size": [64, 64],
        "patch_size": [32, 32],
        "num_samples": 2,
        "batch_size": 4,
        "epochs": 1,
    },
    "mammo_lesion_segmentation": {
        "image_size": 96,
        "patch_size": [32, 32],
        "roi_size": [64, 64],
        "num_samples": 2,
        "batch_size": 2,
        "epochs": 1,
    },
}


def meta_file(bundle: Path) -> str:
    return str(bundle / "configs" / "metadata.json")


def logging_file(bundle: Path) -> str:
    return str(bundle / "configs" / "logging.conf")


def bundle_workflow(
    bundle: Path, config_file: str | list[str], workflow_type: str, **override: object
) -> ConfigWorkflow:
    """An initialised ConfigWorkflow of ``bundle`` with its metadata and logging config."""
    flow = ConfigWorkflow(
        config_file=config_file,
        meta_file=meta_file(bundle),
        logging_file=logging_file(bundle),
        workflow_type=workflow_type,
        **override,
    )
    flow.initialize()
    return flow


def tiny_train_workflow(bundle: Path, datalist: Path, output_dir: Path, **override: object) -> ConfigWorkflow:
    """The bundle's train.json as its tiny run (``TINY_RUNS``) on ``datalist``, with ``override`` on top."""
    return bundle_workflow(
        bundle,
        str(bundle / "configs" / "train.json"),
        "train",
        datalist=str(datalist),
        output_dir=str(output_dir),
        **{**TINY_RUNS[bundle.name], **override},
    )


def tiny_train_parser(bundle: Path, datalist: Path, output_dir: Path, **override: object) -> ConfigParser:
    """The bundle's train.json parsed as its tiny run (``TINY_RUNS``) on ``datalist``, ``override`` on top."""
    parser = ConfigParser()
    parser.read_config(str(bundle / "configs" / "train.json"))
    parser.update(
        {"datalist": str(datalist), "output_dir": str(output_dir), **TINY_RUNS[bundle.name], **override}
    )
    return parser


def check_workflow_properties(bundle: Path, datalist: Path, tmp_path: Path) -> None:
    """The tiny train and the inference workflow have MONAI's required properties and find the bundle."""
    train = tiny_train_workflow(bundle, datalist, tmp_path / "train")
    assert train.check_properties() == []
    assert train.max_epochs == 1
    inference = bundle_workflow(
        bundle, str(bundle / "configs" / "inference.json"), "inference", output_dir=str(tmp_path / "infer")
    )
    assert inference.check_properties() == []
    assert Path(inference.bundle_root) == bundle


def check_training_outputs(trained: Path) -> dict[str, Any]:
    """One tiny epoch wrote the full training state, the bare best model, TensorBoard and no temporaries.

    Returns:
        The loaded ``checkpoint.pt``.
    """
    state = torch.load(trained / "checkpoint.pt", weights_only=True)
    assert set(state) == {
        "trainer",
        "network",
        "optimizer",
        "lr_scheduler",
        "best_model_saver",
        "random_states",
    }
    assert state["trainer"]["iteration"] == state["trainer"]["epoch_length"]  # after epoch 1
    model = torch.load(trained / "model.pt", weights_only=True)
    assert set(model) == set(state["network"])  # a bare state_dict, as models/model.pt
    assert not [p for p in trained.rglob("*.tmp")]
    assert list(trained.glob("events.out.tfevents.*"))  # TensorBoard
    return state


def check_resume_after_the_last_completed_epoch(
    bundle: Path, datalist: Path, out: Path, resume: object
) -> ConfigWorkflow:
    """A 2-epoch run stopped after epoch 1, run again with ``resume``, trains epoch 2 only, losing nothing.

    Returns:
        The resumed (second) workflow, after its run.
    """
    first = tiny_train_workflow(bundle, datalist, out, epochs=2)
    trainer = first.parser.get_parsed_content("train#trainer")
    trainer.add_event_handler(Events.EPOCH_COMPLETED, lambda e: e.terminate())  # stopped after epoch 1
    first.run()
    epoch_length = trainer.state.epoch_length
    assert trainer.state.epoch == 1
    assert torch.load(out / "checkpoint.pt", weights_only=True)["trainer"]["iteration"] == epoch_length

    second = tiny_train_workflow(bundle, datalist, out, epochs=2, resume=resume)
    trainer2 = second.parser.get_parsed_content("train#trainer")
    iterations: list[int] = []
    trainer2.add_event_handler(Events.ITERATION_COMPLETED, lambda e: iterations.append(e.state.iteration))
    second.run()
    assert trainer2.state.epoch == 2
    assert iterations == list(range(epoch_length + 1, 2 * epoch_length + 1))  # epoch 2 only, none lost
    assert torch.load(out / "checkpoint.pt", weights_only=True)["trainer"]["iteration"] == 2 * epoch_length
    return second


def check_first_step_sees(workflow: ConfigWorkflow, weights_file: Path) -> None:
    """Run and finalize ``workflow``: its first training step sees exactly the weights in ``weights_file``
    (``--pretrained``), not a fresh network."""
    weights = torch.load(weights_file, weights_only=True)
    trainer = workflow.parser.get_parsed_content("train#trainer")
    network = workflow.parser.get_parsed_content("network")
    seen: dict[str, torch.Tensor] = {}
    trainer.add_event_handler(
        Events.ITERATION_STARTED(once=1),
        lambda e: seen.update({k: v.clone() for k, v in network.state_dict().items()}),
    )
    workflow.run()
    workflow.finalize()
    assert set(seen) == set(weights)
    assert all(torch.equal(seen[k].cpu(), weights[k]) for k in weights)


def train_once(bundle: Path, datalist: Path, output_dir: Path) -> Path:
    """Run and finalize one tiny training of ``bundle``; returns its output folder."""
    workflow = tiny_train_workflow(bundle, datalist, output_dir)
    workflow.run()
    workflow.finalize()
    return output_dir


def inputs_with_corrupt_files(sample_images: Path, inputs: Path) -> list[Path]:
    """Copy the sample images into ``inputs``, add a truncated DICOM and a text file named .dcm.

    Returns:
        The good DICOMs, sorted.
    """
    shutil.copytree(sample_images, inputs, dirs_exist_ok=True)
    good = sorted(inputs.glob("*.dcm"))
    (inputs / "truncated.dcm").write_bytes(good[0].read_bytes()[:20000])
    (inputs / "notes.dcm").write_text("not a mammogram")
    return good


def run_bundle(config_file: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``python -m monai.bundle run --config_file <config_file> <args>`` in ``cwd``, as a user types it."""
    command = [sys.executable, "-m", "monai.bundle", "run", "--config_file", config_file, *args]
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def run_from_bundle_folder(bundle: Path, config_file: str, output_dir: Path) -> None:
    """``python -m monai.bundle run --config_file <config_file>`` in the bundle folder; it must succeed."""
    result = run_bundle(config_file, "--output_dir", str(output_dir), cwd=bundle)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def check_multi_process_training_on_gloo(
    bundle: Path, datalist: Path, output_dir: Path, overrides: Mapping[str, object]
) -> None:
    """Train one epoch in two processes on gloo (``train.json`` + ``multi_gpu_train.json``); check the run."""
    configs = bundle / "configs"
    args = [f"--{k}={json.dumps(v) if isinstance(v, list) else v}" for k, v in overrides.items()]
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "monai.bundle",
        "run",
        "--config_file",
        f"['{configs / 'train.json'}', '{configs / 'multi_gpu_train.json'}']",
        "--meta_file",
        meta_file(bundle),
        "--logging_file",
        logging_file(bundle),
        "--datalist",
        str(datalist),
        "--output_dir",
        str(output_dir),
        *args,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    state = torch.load(output_dir / "checkpoint.pt", weights_only=True)
    assert state["trainer"]["iteration"] == state["trainer"]["epoch_length"]  # one epoch
    assert not any(k.startswith("module.") for k in state["network"])  # saved unwrapped from DDP
    assert (output_dir / "model.pt").is_file()
    assert len(list(output_dir.glob("events.out.tfevents.*"))) == 2  # rank 0 only: trainer + validation


def check_torchscript_export(bundle: Path, tmp_path: Path, input_shape: tuple[int, int]) -> None:
    """Export ``models/model.pt`` with ``ckpt_export``: the TorchScript net gives the eager net's output."""
    inference = str(bundle / "configs" / "inference.json")
    ts_path = tmp_path / "model.ts"
    ckpt_export(
        net_id="network_def",
        filepath=str(ts_path),
        ckpt_file=str(bundle / "models" / "model.pt"),
        meta_file=meta_file(bundle),
        config_file=inference,
        bundle_root=str(bundle),
    )
    scripted = torch.jit.load(str(ts_path))
    parser = ConfigParser()
    parser.read_config(inference)
    net = parser.get_parsed_content("network_def")
    net.load_state_dict(torch.load(bundle / "models" / "model.pt", weights_only=True))
    net.eval()
    scripted.eval()
    x = torch.rand(2, 1, *input_shape, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(scripted(x), net(x), atol=1e-5)
