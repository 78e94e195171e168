"""copy_bundle (``monai-mammo bundle get``): the bundle's parts, not its outputs, whole or not at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monai_mammo.bundle.distribution import BUNDLE_PARTS, copy_bundle
from monai_mammo.cli import main

REPO = Path(__file__).resolve().parents[2]
NAME = "mammo_lesion_segmentation"
BUNDLE = REPO / "bundles" / NAME


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """The segmentation bundle with run outputs and byte caches beside its parts."""
    folder = tmp_path / "source" / NAME
    shutil.copytree(BUNDLE, folder, ignore=shutil.ignore_patterns("eval", "runs", "__pycache__"))
    for junk in ("eval/summary.csv", "runs/model.pt", "scripts/__pycache__/x.cpython-311.pyc", "notes.txt"):
        (folder / junk).parent.mkdir(parents=True, exist_ok=True)
        (folder / junk).write_text("x")
    return folder


def test_copy_holds_the_bundle_parts_only(source: Path, tmp_path: Path) -> None:
    copy = copy_bundle(NAME, tmp_path / "mine", source=source)
    assert copy == tmp_path / "mine" / NAME
    expected = {f for f in _files(source) if f.split("/")[0] in BUNDLE_PARTS and "__pycache__" not in f}
    assert _files(copy) == expected
    assert {"configs/inference.json", "models/model.pt", "docs/README.md", "LICENSE"} <= expected
    assert (copy / "models" / "model.pt").read_bytes() == (BUNDLE / "models" / "model.pt").read_bytes()
    assert [p.name for p in (tmp_path / "mine").iterdir()] == [NAME]  # no staging folder left


def test_an_empty_target_folder_is_filled_a_non_empty_one_refused(source: Path, tmp_path: Path) -> None:
    (tmp_path / "mine" / NAME).mkdir(parents=True)
    copy_bundle(NAME, tmp_path / "mine", source=source)
    before = _files(tmp_path / "mine" / NAME)
    (tmp_path / "mine" / NAME / "configs" / "inference.json").write_text("{} ")  # the user's edit
    with pytest.raises(FileExistsError, match="not empty"):
        copy_bundle(NAME, tmp_path / "mine", source=source)
    assert _files(tmp_path / "mine" / NAME) == before
    assert (tmp_path / "mine" / NAME / "configs" / "inference.json").read_text() == "{} "


def test_a_failed_copy_leaves_nothing(source: Path, tmp_path: Path) -> None:
    (source / "models" / "gone.pt").symlink_to(source / "models" / "deleted.pt")  # unreadable part
    with pytest.raises(shutil.Error):
        copy_bundle(NAME, tmp_path / "mine", source=source)
    assert list((tmp_path / "mine").iterdir()) == []


def test_not_a_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="configs/metadata.json"):
        copy_bundle(NAME, tmp_path / "mine", source=tmp_path)


def test_bundle_get_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "get", NAME, str(tmp_path / "mine")]) == 0
    copy = tmp_path / "mine" / NAME
    assert "configs/inference.json" in _files(copy) and "eval" not in {p.name for p in copy.iterdir()}
    assert f"--config_file {copy / 'configs' / 'inference.json'}" in capsys.readouterr().out
    assert main(["bundle", "get", NAME, str(tmp_path / "mine")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["bundle", "get", "no_such_bundle", str(tmp_path / "mine")]) == 2
    assert "--bundle_root" in capsys.readouterr().err


def test_bundle_path_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bundle", "path", NAME]) == 0
    assert Path(capsys.readouterr().out.strip()) == BUNDLE
