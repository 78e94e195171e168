"""Mask drawing and the image cache: parallel, resumable, atomic, failures recorded and skipped."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from dataset_trees import breast_image, write_dicom, write_png
from PIL import Image

from monai_mammo.data.datasets import (
    CacheError,
    CircleMask,
    EmptyMask,
    ImageRecord,
    MaskFiles,
    PolygonMask,
    materialize,
    prepare_dataset,
    report_path,
)
from monai_mammo.data.datasets.cache import decode_image
from monai_mammo.data.datasets.masks import resize_nearest
from monai_mammo.data.errors import BlankImageError, MammoReadError


def _records(tmp_path, n=4):
    records = []
    for k in range(n):
        path = write_dicom(
            tmp_path / "src" / f"img{k}.dcm",
            breast_image("L" if k % 2 else "R", seed=k),
            laterality="L" if k % 2 else "R",
            window=(2048, 4096),
        )
        records.append(
            ImageRecord(
                key=f"img{k}", image=str(path), patient_id=f"p{k}", mask=CircleMask(((20.0, 24.0, 5.0),))
            )
        )
    return records


def test_masks_render_circles_polygons_and_files(tmp_path):
    circle, notes = CircleMask(((10, 40, 2),), y_from_bottom=True).render((48, 64))
    assert circle[8, 10] == 1 and circle.sum() == 13 and notes == []  # row 48 - 40 = 8; r=2 -> 13 pixels
    outside, notes = CircleMask(((100, 5, 2),)).render((48, 64))
    assert outside.sum() == 0 and "outside" in notes[0]
    polygon, _ = PolygonMask((((2, 2), (9, 2), (9, 5), (2, 5)),)).render((48, 64))
    assert polygon[2:6, 2:10].all() and polygon.sum() == 32
    assert EmptyMask().render((4, 5))[0].shape == (4, 5)
    small = np.zeros((24, 32), np.uint8)
    small[4:8, 4:8] = 255
    write_png(tmp_path / "m.png", small)
    merged, notes = MaskFiles((str(tmp_path / "m.png"),)).render((48, 64))
    assert merged[8:16, 8:16].all() and merged.sum() == 64 and "resized" in notes[0]
    write_png(tmp_path / "grey.png", breast_image(dtype=np.uint8))
    with pytest.raises(MammoReadError, match="distinct values"):
        MaskFiles((str(tmp_path / "grey.png"),)).render((48, 64))
    assert resize_nearest(np.arange(4).reshape(2, 2), (4, 4)).tolist()[0] == [0, 0, 1, 1]


def test_decode_uses_the_voi_window_and_refuses_bad_files(tmp_path):
    pixels = breast_image("L")
    path = write_dicom(tmp_path / "a.dcm", pixels, window=(1000, 500))
    image = decode_image(path)
    assert image.shape == (48, 64) and image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
    assert image[pixels >= 1250].min() == 1.0 and image[pixels < 750].max() == 0.0
    (tmp_path / "bad.dcm").write_bytes(path.read_bytes()[:400])
    with pytest.raises(MammoReadError):
        decode_image(tmp_path / "bad.dcm")
    blank = write_dicom(tmp_path / "blank.dcm", np.zeros_like(pixels), window=(1000, 500))
    with pytest.raises(BlankImageError, match=r"blank\.dcm: is blank: every pixel is 0"):
        decode_image(blank)


def test_parallel_equals_serial_and_resumes(tmp_path):
    records = _records(tmp_path)
    serial = materialize(records, tmp_path / "a", cache_images=True, size=(24, 32), workers=1, progress=False)
    parallel = materialize(
        records, tmp_path / "b", cache_images=True, size=(24, 32), workers=2, progress=False
    )
    for key in serial:
        assert serial[key]["ok"] and parallel[key]["ok"] and not parallel[key]["resumed"]
        for out in ("image", "label"):
            assert open(serial[key][out], "rb").read() == open(parallel[key][out], "rb").read()
    image = np.asarray(Image.open(serial["img0"]["image"]))
    assert image.dtype == np.uint16 and image.shape == (24, 32) and image.max() > 50000
    # resume: everything done is skipped; a lost output, a changed source or a stale temp file are handled
    os.unlink(serial["img1"]["label"])
    os.utime(records[2].image, ns=(1, 1))  # "modified" source
    (tmp_path / "a" / "images" / ".img3.png.123.tmp").write_bytes(b"half-written")
    again = materialize(records, tmp_path / "a", cache_images=True, size=(24, 32), workers=1, progress=False)
    assert {k: v["resumed"] for k, v in again.items()} == {
        "img0": True,
        "img1": False,
        "img2": False,
        "img3": True,
    }
    assert os.path.exists(again["img1"]["label"])


def test_settings_are_checked_and_size_needs_the_cache(tmp_path):
    records = _records(tmp_path, n=1)
    materialize(records, tmp_path / "c", cache_images=True, size=(24, 32), workers=1, progress=False)
    with pytest.raises(CacheError, match="other settings"):
        materialize(records, tmp_path / "c", cache_images=True, size=(12, 16), workers=1, progress=False)
    with pytest.raises(ValueError, match="cache_images"):
        materialize(records, tmp_path / "d", cache_images=False, size=(12, 16), progress=False)
    with pytest.raises(ValueError, match="cache"):
        prepare_dataset("mini_mias", root=tmp_path, out=tmp_path / "x.json", size=(12, 16))


def test_bad_files_are_reported_and_skipped_never_fatal(mini_mias_tree, tmp_path):
    (mini_mias_tree / "mdb004.pgm").write_bytes(b"P5\n64 48\n255\n" + b"\0" * 100)  # truncated
    (mini_mias_tree / "mdb006.pgm").write_bytes(b"this is not an image")
    out = prepare_dataset(
        "mini_mias",
        root=mini_mias_tree,
        out=tmp_path / "d.json",
        cache_dir=tmp_path / "cache",
        workers=1,
        progress=False,
    )
    data = json.loads(out.read_text())
    kept = {i["image_id"] for f in ("training", "validation", "test") for i in data[f]}
    assert len(kept) == 9 and not kept & {"mdb004", "mdb006"}
    report = json.loads(report_path(out).read_text())
    assert sorted(f["key"] for f in report["failed"]) == ["mdb004", "mdb006"]
    assert all(f["error"] for f in report["failed"]) and report["issue_counts"]["unreadable"] == 2
