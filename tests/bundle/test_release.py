"""build_release (``monai-mammo bundle zip``): the model-zoo checks, the archive's layout, and the archive
unpacked elsewhere runs its own inference from its folder."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
import yaml

from monai_mammo.bundle.release import BundleCheckError, build_release
from monai_mammo.cli import main

REPO = Path(__file__).resolve().parents[2]
NAME = "mammo_lesion_segmentation"
BUNDLE = REPO / "bundles" / NAME
VERSION = json.loads((BUNDLE / "configs" / "metadata.json").read_text())["version"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release")
    assert main(["bundle", "zip", NAME, str(out), "--source", str(BUNDLE)]) == 0
    return out / f"{NAME}_v{VERSION}.zip"


def test_archive_is_the_bundle_folder_in_the_zoo_layout(archive: Path) -> None:
    names = set(zipfile.ZipFile(archive).namelist())
    assert all(n.startswith(f"{NAME}/") for n in names)
    files = {n.removeprefix(f"{NAME}/") for n in names if not n.endswith("/")}
    zoo = {
        "configs/metadata.json",
        "configs/inference.json",
        "configs/logging.conf",
        "docs/README.md",
        "LICENSE",
    }
    assert zoo | {"models/model.pt", "models/model.ts"} <= files
    assert not any(f.split("/")[0] in ("eval", "runs") or "__pycache__" in f for f in files)
    assert "large_files.yml" not in files  # every file is under the zoo's 25 MB
    assert [p.name for p in archive.parent.iterdir()] == [archive.name]  # no partial file left


def test_the_exported_torchscript_is_the_checkpoints_network(archive: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path)
    scripted = torch.jit.load(str(tmp_path / NAME / "models" / "model.ts"), map_location="cpu").eval()
    from monai.bundle import ConfigParser

    parser = ConfigParser()
    parser.read_config(str(BUNDLE / "configs" / "inference.json"))
    net = parser.get_parsed_content("network_def")  # the network the bundle names, not a copy of it
    net.load_state_dict(torch.load(BUNDLE / "models" / "model.pt", map_location="cpu", weights_only=True))
    x = torch.rand(1, 1, 64, 48, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), net.eval()(x), rtol=1e-4, atol=1e-5)


def test_unpacked_archive_runs_its_own_inference_from_its_folder(archive: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(archive) as z:
        z.extractall(tmp_path / "unpacked")
    bundle = tmp_path / "unpacked" / NAME
    kept = sorted((bundle / "sample" / "images").iterdir())
    kept[0].unlink()  # the run must read this copy's sample, not the checkout's (2 images)
    command = [sys.executable, "-m", "monai.bundle", "run", "--config_file", "configs/inference.json"]
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    done = subprocess.run(
        [*command, "--output_dir", str(tmp_path / "out")],
        cwd=bundle,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with (tmp_path / "out" / "summary.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and kept[1].stem in json.dumps(rows)
    assert not (bundle / "eval").exists()


def test_files_above_the_limit_are_listed_in_large_files_yml(tmp_path: Path) -> None:
    limit = 400_000  # the weights (449,691 bytes) and their TorchScript export are above it
    with pytest.raises(BundleCheckError, match="models/model.pt"):
        build_release(NAME, tmp_path / "a", source=BUNDLE, large_file_limit=limit)
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    url = "https://example.org/{name}/v{version}/{path}"
    release = build_release(NAME, tmp_path / "b", source=BUNDLE, large_file_limit=limit, large_file_url=url)
    assert release.large_files == ["models/model.pt", "models/model.ts"]
    with zipfile.ZipFile(release.path) as z:
        listed = yaml.safe_load(z.read(f"{NAME}/large_files.yml"))["large_files"]
        weights = z.read(f"{NAME}/models/model.pt")
    assert listed[0] == {
        "path": "models/model.pt",
        "url": f"https://example.org/{NAME}/v{VERSION}/models/model.pt",
        "hash_val": hashlib.sha256(weights).hexdigest(),
        "hash_type": "sha256",
    }


def test_a_version_without_changelog_entry_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / NAME
    (bundle / "configs").mkdir(parents=True)
    meta = json.loads((BUNDLE / "configs" / "metadata.json").read_text())
    meta["version"] = "9.9.9"
    (bundle / "configs" / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(BundleCheckError, match="no entry for version 9.9.9"):
        build_release(NAME, tmp_path / "out", source=bundle)
    assert not list((tmp_path / "out").iterdir())
