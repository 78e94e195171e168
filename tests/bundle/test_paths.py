"""locate_bundle_root and list_images."""

from __future__ import annotations

from pathlib import Path

import pytest

from monai_mammo.bundle import list_images, locate_bundle_root

REPO = Path(__file__).resolve().parents[2]


def test_bundle_root_from_its_folder_the_repository_root_and_elsewhere(tmp_path: Path) -> None:
    bundle = REPO / "bundles" / "mammo_lesion_segmentation"
    assert Path(locate_bundle_root("mammo_lesion_segmentation", start=bundle)) == bundle
    assert Path(locate_bundle_root("mammo_lesion_segmentation", start=REPO)) == bundle
    # anywhere else: the source checkout beside the package
    assert Path(locate_bundle_root("mammo_lesion_segmentation", start=tmp_path)) == bundle


def test_bundle_root_prefers_the_working_folder(tmp_path: Path) -> None:
    copy = tmp_path / "mammo_lesion_segmentation"
    (copy / "configs").mkdir(parents=True)
    (copy / "configs" / "metadata.json").write_text("{}")
    assert Path(locate_bundle_root("mammo_lesion_segmentation", start=copy)) == copy


def test_unknown_bundle_names_the_places_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--bundle_root"):
        locate_bundle_root("no_such_bundle", start=tmp_path)


def test_list_images(tmp_path: Path) -> None:
    for name in ("b.dcm", "a.PNG", "sub/c.nii.gz", "notes.txt", ".hidden/d.dcm", "sub/.e.dcm"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [Path(p).relative_to(tmp_path).as_posix() for p in list_images(tmp_path)] == [
        "a.PNG",
        "b.dcm",
        "sub/c.nii.gz",
    ]
    assert len(list_images(tmp_path, recursive=False)) == 2
    (tmp_path / "gone.dcm").symlink_to(tmp_path / "deleted.dcm")  # dangling: listed, to be reported
    assert Path(list_images(tmp_path, recursive=False)[-1]).name == "gone.dcm"
    with pytest.raises(FileNotFoundError, match="dataset_dir"):
        list_images(tmp_path / "missing")


def test_list_images_of_one_file_is_that_file(tmp_path: Path) -> None:
    image = tmp_path / "scan.dcm"
    image.write_text("x")
    assert list_images(image) == [str(image)]
    odd = tmp_path / "scan.raw"  # named explicitly: taken as it is, the reader says what is wrong with it
    odd.write_text("x")
    assert list_images(odd) == [str(odd)]


MAIN = "/usr/lib/python3/site-packages/monai/bundle/__main__.py"  # how sys.argv[0] reads under -m


def test_bundle_root_is_the_config_files_bundle_on_the_command_line(tmp_path: Path) -> None:
    copy = tmp_path / "mine" / "mammo_lesion_segmentation"
    (copy / "configs").mkdir(parents=True)
    (copy / "configs" / "metadata.json").write_text("{}")
    config = str(copy / "configs" / "inference.json")
    for argv in (
        [MAIN, "run", "--config_file", config, "--output_dir", "out"],
        [MAIN, "run", f"--config_file={config}"],
        [MAIN, "ckpt_export", "network_def", "--config_file", f"['{config}', 'other.json']"],
    ):
        assert Path(locate_bundle_root("mammo_lesion_segmentation", argv=argv)) == copy, argv
    # another bundle's config (exam_report.json of the classification bundle names the segmentation one),
    # another process, or an explicit start folder: found as before
    other = [
        MAIN,
        "run",
        "--config_file",
        str(REPO / "bundles/mammo_classification/configs/exam_report.json"),
    ]
    checkout = REPO / "bundles" / "mammo_lesion_segmentation"
    for argv in (other, ["pytest", "--config_file", config], [MAIN, "run", "--output_dir", "x"]):
        assert Path(locate_bundle_root("mammo_lesion_segmentation", argv=argv)) == checkout, argv
    run = [MAIN, "run", "--config_file", config]
    assert Path(locate_bundle_root("mammo_lesion_segmentation", start=REPO, argv=run)) == checkout
