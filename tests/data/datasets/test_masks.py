"""colour_lesion_masks: the red and green lesion pixels of colour-coded masks, drawn ones and CDD-CESM's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data.datasets import colour_lesion_masks


def test_colours_drawn_into_a_grey_image(tmp_path: Path) -> None:
    rgb = np.full((40, 60, 3), 90, dtype=np.uint8)  # the image showing through
    rgb[2:8, 2:10] = (230, 40, 30)  # red: malignant
    rgb[20:30, 30:35] = (20, 200, 60)  # green: benign
    rgb[10:12, 40:50] = (230, 230, 0)  # yellow: neither
    rgb[30:33, 2:4] = (255, 255, 255)  # white: neither
    rgb[35, 50] = (180, 120, 120)  # reddish but within the margin of 64: neither
    rgb[36, 50] = (128, 63, 0)  # just red enough (above 127, margin 65)
    rgb[37, 50] = (127, 0, 0)  # not bright enough
    Image.fromarray(rgb).save(tmp_path / "mask.png")
    malignant, benign = colour_lesion_masks(tmp_path / "mask.png")
    assert malignant.dtype == bool and malignant.shape == benign.shape == (40, 60)
    expected = np.zeros((40, 60), dtype=bool)
    expected[2:8, 2:10] = True
    expected[36, 50] = True
    np.testing.assert_array_equal(malignant, expected)
    expected[:] = False
    expected[20:30, 30:35] = True
    np.testing.assert_array_equal(benign, expected)


def test_grey_and_palette_files_are_converted(tmp_path: Path) -> None:
    Image.fromarray(np.full((8, 8), 255, dtype=np.uint8)).save(tmp_path / "grey.png")
    assert not any(m.any() for m in colour_lesion_masks(tmp_path / "grey.png"))
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    palette.save(tmp_path / "palette.png")
    malignant, benign = colour_lesion_masks(tmp_path / "palette.png")
    assert benign.all() and not malignant.any()
    with pytest.raises(FileNotFoundError):
        colour_lesion_masks(tmp_path / "missing.png")


def test_real_cdd_cesm_masks(shared_data: Path) -> None:
    files = sorted((shared_data / "cdd_cesm" / "masks").glob("*.png"))
    assert len(files) == 9
    masks = [colour_lesion_masks(path) for path in files]
    malignant = [path.stem for path, (m, _) in zip(files, masks) if m.any()]
    assert malignant == ["flipped_P152_L_DM_MLO", "flipped_P84_L_DM_MLO", "flipped_P99_R_DM_CC"]
    assert all(b.any() != m.any() for m, b in masks)  # each image has one kind of lesion
    # the lesion-mask pixels of docs/transforms.md (CDD-CESM row)
    assert sum(int((m | b).sum()) for m, b in masks) == 100043
