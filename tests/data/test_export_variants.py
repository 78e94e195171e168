"""``export_variant``, ``write_export_variants``, ``monai-mammo export-variants``: a fold as other exports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from monai_mammo.cli import main
from monai_mammo.data.export_variants import EXPORT_VARIANTS, export_variant, write_export_variants
from monai_mammo.transforms import CorrectInvertedExport


def breast_image(rows: int = 60, cols: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """A bright half-disc on black with a darker lesion, and the lesion's mask."""
    r, c = np.mgrid[:rows, :cols]
    image = np.where((r - rows / 2) ** 2 + c**2 < (rows / 2.2) ** 2, 0.7, 0.0).astype(np.float32)
    image += 0.1 * np.sin(r / 3.0) * (image > 0)
    lesion = (r - 30) ** 2 + (c - 10) ** 2 < 16
    image[lesion] = 0.95
    return image, lesion.astype(np.uint8)


def test_plain_inverted_and_processed_keep_the_geometry():
    image, mask = breast_image()
    plain, plain_mask = export_variant(image, "plain", mask)
    assert plain.dtype == np.uint8 and plain.shape == image.shape
    np.testing.assert_array_equal(plain_mask, mask)
    inverted, _ = export_variant(image, "inverted")
    assert np.abs(inverted.astype(int) - (255 - plain.astype(int))).max() <= 1
    processed, processed_mask = export_variant(image, "processed", mask)
    assert processed.shape == image.shape and not np.array_equal(processed, plain)
    np.testing.assert_array_equal(processed_mask, mask)
    # the background stays black; the lesion's edge is sharpened above its plain value
    assert processed[image == 0].max() == 0
    assert processed[mask > 0].max() >= plain[mask > 0].max()


def test_stretched_widens_image_and_mask_alike():
    image, mask = breast_image()
    stretched, stretched_mask = export_variant(image, "stretched", mask, stretch=1.5)
    assert stretched.shape == (60, 60) and stretched_mask.shape == (60, 60)
    assert set(np.unique(stretched_mask)) == {0, 1}
    # the lesion keeps its rows and its area grows with the columns
    assert abs(stretched_mask.sum() / mask.sum() - 1.5) < 0.25
    rows = np.nonzero(mask.any(axis=1))[0]
    np.testing.assert_array_equal(np.nonzero(stretched_mask.any(axis=1))[0], rows)


def test_errors():
    image, mask = breast_image()
    with pytest.raises(ValueError, match="variant"):
        export_variant(image, "rotated")
    with pytest.raises(ValueError, match="stretch"):
        export_variant(image, "stretched", stretch=0)
    with pytest.raises(ValueError, match="does not match"):
        export_variant(image, "plain", mask[:10])
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        export_variant(image[None], "plain")


def _datalist(tmp_path: Path) -> Path:
    image, mask = breast_image()
    (tmp_path / "src").mkdir()
    Image.fromarray(np.uint16(image * 65535)).save(tmp_path / "src" / "a.png")
    Image.fromarray(mask).save(tmp_path / "src" / "a_mask.png")
    (tmp_path / "src" / "broken.png").write_bytes(b"not a png")
    items = [
        {
            "image": "src/a.png",
            "label": "src/a_mask.png",
            "source": "src",
            "boxes": [[6.0, 26.0, 14.0, 34.0]],
            "box_format": "xyxy_corner_px",
        },
        {"image": "src/broken.png", "source": "src"},
    ]
    path = tmp_path / "datalist.json"
    path.write_text(json.dumps({"training": [], "test": items}))
    return path


def test_write_export_variants_writes_each_variant_and_leaves_broken_files_out(tmp_path):
    written = write_export_variants(_datalist(tmp_path), tmp_path / "out")
    assert list(written) == list(EXPORT_VARIANTS)
    for variant, path in written.items():
        document = json.loads(path.read_text())
        (item,) = document["test"]
        assert "training" not in document
        # a value that happens to name a folder is copied, not turned into a path
        assert item["source"] == "src"
        image = np.asarray(Image.open(path.parent / item["image"]))
        label = np.asarray(Image.open(path.parent / item["label"]))
        assert image.dtype == np.uint8 and label.shape == image.shape
        assert set(np.unique(label)) == {0, 255}
        (failure,) = json.loads((path.parent / "failures.json").read_text())
        assert failure["image"].endswith("broken.png")
        expected_cols = 52 if variant == "stretched" else 40
        assert image.shape == (60, expected_cols)
        boxes = np.asarray(item["boxes"])
        expected = [[7.8, 26.0, 18.2, 34.0]] if variant == "stretched" else [[6.0, 26.0, 14.0, 34.0]]
        np.testing.assert_allclose(boxes, expected)


def test_cli_writes_the_chosen_variants_and_reports_a_missing_fold(tmp_path, capsys):
    datalist = _datalist(tmp_path)
    out = tmp_path / "out"
    command = ["export-variants", "--datalist", str(datalist), "--out", str(out)]
    assert main([*command, "--variant", "inverted"]) == 0
    assert (out / "inverted" / "datalist.json").is_file() and not (out / "plain").exists()
    assert main([*command, "--fold", "nope"]) == 2
    assert "no 'nope' fold" in capsys.readouterr().err


def test_inverted_real_films_are_found_and_plain_ones_left(shared_data, tmp_path):
    # real mini-MIAS films: the training pipeline's inversion check must undo the inverted export only
    names = ["mdb001.png", "mdb010.png", "mdb028.png"]
    images = shared_data / "mini_mias" / "images"
    if not all((images / n).is_file() for n in names):
        pytest.skip("mini-MIAS films not found")
    datalist = tmp_path / "films.json"
    datalist.write_text(json.dumps({"test": [{"image": str(images / n)} for n in names]}))
    written = write_export_variants(datalist, tmp_path / "out", variants=["plain", "inverted"])
    check = CorrectInvertedExport()
    for variant, path in written.items():
        for item in json.loads(path.read_text())["test"]:
            pixels = np.asarray(Image.open(path.parent / item["image"]), dtype=np.float32)[None] / 255.0
            assert check.decide(torch.from_numpy(pixels)).invert == (variant == "inverted"), item["image"]
