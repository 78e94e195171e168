from __future__ import annotations

from pathlib import Path

from monai_mammo.data.datasets.files import ImageLocator


def test_expected_path_then_stem_then_none(tmp_path: Path) -> None:
    images = tmp_path / "images"
    (images / "p1").mkdir(parents=True)
    (images / "p1" / "a.dcm").write_bytes(b"x")
    (images / "moved").mkdir()
    (images / "moved" / "b.dcm").write_bytes(b"x")
    locator = ImageLocator(images, tmp_path)
    assert locator.find(images / "p1" / "a.dcm", "a") == images / "p1" / "a.dcm"
    assert locator._index is None  # a tree laid out as documented is never walked
    assert locator.find(images / "p2" / "b.dcm", "nothing", "b") == images / "moved" / "b.dcm"
    assert locator.find(images / "p3" / "c.dcm", "c") is None


def test_the_root_is_indexed_when_the_image_folder_is_missing(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "d.png").write_bytes(b"x")
    locator = ImageLocator(tmp_path / "images", tmp_path)
    assert locator.find(tmp_path / "images" / "d.png", "d") == tmp_path / "elsewhere" / "d.png"
