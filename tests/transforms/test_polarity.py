"""inversion_evidence / reader_photometric: the image evidence for an inverted grey scale; the metadata."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from monai_mammo.data.phantom import make_phantom
from monai_mammo.transforms import InversionEvidence, inversion_evidence, reader_photometric
from monai_mammo.transforms.breast_region import breast_grid
from monai_mammo.utils.enums import PhotometricInterpretation

CUES = {"plateau", "edge_sides", "dark_end", "dark_end_wide"}


def phantom_grid(seed: int, view: str, density: str, shape=(512, 416)) -> np.ndarray:
    image = make_phantom(shape, seed=seed, view=view, laterality="LR"[seed % 2], density=density).image
    return breast_grid(torch.from_numpy(image.astype(np.float32))[None]).values


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("view", ["CC", "MLO"])
@pytest.mark.parametrize("density", ["A", "D"])
def test_phantom_scores_negative_and_its_reflection_positive(seed, view, density):
    grid = phantom_grid(seed, view, density)
    upright = inversion_evidence(grid)
    flipped = inversion_evidence(grid.max() + grid.min() - grid)
    assert isinstance(upright, InversionEvidence) and set(upright.cues) == CUES
    assert upright.score < -0.5 and flipped.score > 0.5
    assert all(-1.0 <= v <= 1.0 for v in (*upright.cues.values(), *flipped.cues.values()))


@pytest.mark.parametrize("shape", [(64, 64), (96, 80), (1024, 832)])
def test_every_cue_changes_sign_under_reflection(shape):
    grid = phantom_grid(5, "MLO", "B", shape).astype(np.float64)
    upright, flipped = inversion_evidence(grid), inversion_evidence(grid.max() + grid.min() - grid)
    assert math.isclose(upright.score, -flipped.score, abs_tol=0.02)
    for name in CUES:
        assert math.isclose(upright.cues[name], -flipped.cues[name], abs_tol=0.05), name


def test_background_value_and_scale_do_not_matter():
    """A digital export with a pure 255 background, or the same image in 16-bit units: same evidence."""
    grid = phantom_grid(3, "CC", "C")
    unit = (grid - grid.min()) / (grid.max() - grid.min())
    white_background = 255.0 * (1.0 - unit)
    sixteen_bit = 65535.0 * (1.0 - unit)
    a, b = inversion_evidence(white_background), inversion_evidence(sixteen_bit)
    assert a.score > 0.5 and math.isclose(a.score, b.score, abs_tol=1e-6)


def test_constant_grid_gives_no_evidence():
    evidence = inversion_evidence(np.full((40, 30), 7.0))
    assert evidence.score == 0.0 and all(v == 0.0 for v in evidence.cues.values())


@pytest.mark.parametrize(
    "grid,match",
    [
        (np.zeros(10), "grid"),
        (np.zeros((0, 5)), "grid"),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
    ],
)
def test_bad_grids_raise(grid, match):
    with pytest.raises(ValueError, match=match):
        inversion_evidence(grid)


@pytest.mark.parametrize(
    "meta,expected",
    [
        # monai_mammo's DICOM reader: tag applied, whatever it was
        (
            {"photometric_interpretation": "MONOCHROME2", "SOPClassUID": "1.2"},
            PhotometricInterpretation.MONOCHROME2,
        ),
        ({"photometric_interpretation": "MONOCHROME1", "TransferSyntaxUID": "1.2"}, "MONOCHROME1"),
        # a TIFF tagged MinIsWhite (the image reader inverted it)
        ({"photometric_interpretation": "MONOCHROME1"}, PhotometricInterpretation.MONOCHROME1),
        # PNG/JPEG/NIfTI/MinIsBlack TIFF: MONOCHROME2 is the reader's default, not the file's word
        ({"photometric_interpretation": "MONOCHROME2"}, None),
        ({"photometric_interpretation": "UNKNOWN", "SOPClassUID": "1.2"}, None),
        # MONAI's PydicomReader keeps the raw tag and the stored (possibly inverted) pixels: not settled
        ({"00280004": {"vr": "CS", "Value": ["MONOCHROME1"]}}, None),
        ({}, None),
    ],
)
def test_reader_photometric(meta, expected):
    assert reader_photometric(meta) == (None if expected is None else PhotometricInterpretation(expected))
