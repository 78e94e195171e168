"""The metadata helpers shared by the readers: laterality/view from text and image, the metadata dict."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from monai.data import MetaTensor, list_data_collate
from pydicom.multival import MultiValue
from pydicom.valuerep import DSfloat

from monai_mammo.data.mammo_meta import (
    geometry_meta,
    laterality_from_image,
    laterality_from_text,
    laterality_score,
    mammo_meta,
    parse_photometric,
    parse_presentation_intent,
    path_texts,
    pixel_spacing_pair,
    resolve_laterality,
    view_from_dicom_value,
    view_from_text,
)
from monai_mammo.utils.enums import (
    Laterality,
    MammoMetaKey,
    PhotometricInterpretation,
    PresentationIntent,
    ViewPosition,
    VoiMode,
)


@pytest.mark.parametrize(
    "text, side, view",
    [
        ("Mass-Test_P_00173_LEFT_CC", "L", "CC"),
        ("Calc-Training_P_00005_RIGHT_MLO", "R", "MLO"),
        ("flipped_P132_R_DM_MLO", "R", "MLO"),
        ("20586908_6c613a14b80a8591_MG_L_CC_ANON", "L", "CC"),
        ("RMLO", "R", "MLO"),
        ("lcc", "L", "CC"),
        ("R ML", "R", "ML"),
        ("full mammogram images", "UNKNOWN", "UNKNOWN"),
        ("LEFT and RIGHT compared", "UNKNOWN", "UNKNOWN"),  # both sides named: ambiguous
        ("mdb001", "UNKNOWN", "UNKNOWN"),
        ("", "UNKNOWN", "UNKNOWN"),
    ],
)
def test_text(text, side, view):
    assert laterality_from_text(text).value == side
    assert view_from_text(text).value == view


def test_text_order_and_words_before_letters():
    # the first text that names one side wins; None entries are skipped
    assert laterality_from_text(None, "series 1", "P_1_RIGHT_CC", "L") is Laterality.RIGHT
    # a whole word beats a stray letter in the same text
    assert laterality_from_text("LEFT_R2_CC") is Laterality.LEFT


def test_path_texts_search_parents():
    texts = path_texts("/data/CBIS-DDSM/Mass-Test_P_00173_LEFT_CC/08-29-2017-DDSM-NA-96009/1-1.dcm")
    assert texts[0] == "1-1" and "Mass-Test_P_00173_LEFT_CC" in texts
    assert laterality_from_text(*texts) is Laterality.LEFT and view_from_text(*texts) is ViewPosition.CC
    assert path_texts("x/case.nii.gz")[0] == "case"
    # in folder names only the words count: a lone "l" there is more often a user name than a side
    assert laterality_from_text("/home/l/data", letters=False) is Laterality.UNKNOWN
    assert resolve_laterality([], ["scan_001"], None, folder_texts=["l", "home"]) == (
        Laterality.UNKNOWN,
        "unknown",
    )
    assert resolve_laterality([], ["scan_001"], None, folder_texts=["P_1_RIGHT_CC"]) == (
        Laterality.RIGHT,
        "text",
    )


@pytest.mark.parametrize(
    "value, view",
    [("CC", "CC"), ("MLO", "MLO"), ("RCC", "CC"), ("medio-lateral oblique", "MLO"), ("", "UNKNOWN")],
)
def test_view_from_dicom_value(value, view):
    assert view_from_dicom_value(value).value == view


def _half_disc(side: str, shape=(300, 240), pad: int = 0) -> np.ndarray:
    """A breast-like half disc touching the left/right edge (optionally padded), dark background, noise."""
    rows, cols = shape
    yy, xx = np.mgrid[:rows, :cols]
    x0 = pad if side == "L" else cols - 1 - pad
    disc = (yy - rows / 2) ** 2 / (rows * 0.45) ** 2 + (xx - x0) ** 2 / (cols * 0.7) ** 2 <= 1
    disc &= (xx >= pad) & (xx <= cols - 1 - pad)
    img = np.random.default_rng(0).normal(100, 5, shape) + 900 * disc
    return img.astype(np.float32)


@pytest.mark.parametrize("side", ["L", "R"])
@pytest.mark.parametrize("pad", [0, 40])
def test_laterality_from_image(side, pad):
    img = _half_disc(side, pad=pad)
    assert laterality_from_image(img).value == side
    assert laterality_from_image(torch.from_numpy(img)[None]).value == side  # (1, H, W) tensor
    # a bright film border on the far (nipple) side does not fool it
    bordered = img.copy()
    bordered[:, -6:] = 1200 if side == "L" else bordered[:, -6:]
    bordered[:, :6] = 1200 if side == "R" else bordered[:, :6]
    assert laterality_from_image(bordered).value == side


def test_laterality_from_image_unknown_cases():
    assert laterality_from_image(np.zeros((50, 40))) is Laterality.UNKNOWN  # blank
    assert laterality_from_image(np.ones((50, 40))) is Laterality.UNKNOWN  # flat
    full = np.full((100, 80), 1000.0)
    full[:, :2] = 0  # fills the whole width: no side to tell
    assert laterality_from_image(full) is Laterality.UNKNOWN
    assert laterality_score(np.zeros((3, 3))) == 0.0
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        laterality_from_image(np.zeros((2, 5, 5)))


def test_resolve_laterality_order():
    left_img = _half_disc("L")
    assert resolve_laterality([("ImageLaterality", ""), ("Laterality", "R")], ["LEFT"], left_img) == (
        Laterality.RIGHT,
        "Laterality",
    )
    assert resolve_laterality([("ImageLaterality", None)], ["x_RIGHT_CC"], left_img) == (
        Laterality.RIGHT,
        "text",
    )
    assert resolve_laterality([], ["nothing"], left_img) == (Laterality.LEFT, "image")
    assert resolve_laterality([], [], None) == (Laterality.UNKNOWN, "unknown")


def test_mammo_meta_defaults_and_values():
    meta = mammo_meta()
    assert set(meta) == {k.value for k in MammoMetaKey}
    assert meta["laterality"] == "UNKNOWN" and meta["manufacturer"] == "UNKNOWN"
    assert all(math.isnan(v) for v in meta["pixel_spacing"])
    meta = mammo_meta(
        laterality=Laterality.LEFT, pixel_spacing=("0.1", 0.2), voi_mode=VoiMode.WINDOW, manufacturer=" GE "
    )
    assert meta["laterality"] == "L" and meta["pixel_spacing"] == [0.1, 0.2]
    assert meta["voi_mode"] == "window" and meta["manufacturer"] == "GE"
    assert all(math.isnan(v) for v in mammo_meta(pixel_spacing=[0, 1])["pixel_spacing"])  # invalid -> unknown


def test_geometry_meta():
    meta = geometry_meta((40, 30), [0.1, 0.2])
    np.testing.assert_allclose(meta["affine"], np.diag([0.1, 0.2, 1.0]))
    assert tuple(meta["spatial_shape"]) == (40, 30) and meta["original_channel_dim"] == 0
    np.testing.assert_allclose(geometry_meta((4, 3), None)["affine"], np.eye(3))


def _collated_spacing() -> object:
    """The ``pixel_spacing`` of a batch of one as MONAI collates it: ``[tensor([0.07]), tensor([0.065])]``."""
    image = MetaTensor(torch.zeros(1, 4, 4), meta={"pixel_spacing": [0.07, 0.065]})
    return list_data_collate([{"image": image}])["image"].meta["pixel_spacing"]


@pytest.mark.parametrize(
    "value, expected",
    [
        (MultiValue(DSfloat, ["0.07", "0.065"]), (0.07, 0.065)),  # a DICOM PixelSpacing as pydicom reads it
        ([0.07, 0.065], (0.07, 0.065)),
        (("0.1", 0.2), (0.1, 0.2)),
        (np.array([0.1, 0.2]), (0.1, 0.2)),
        (torch.tensor([0.1, 0.2], dtype=torch.float64, requires_grad=True), (0.1, 0.2)),
        (_collated_spacing(), (0.07, 0.065)),
        (0.2, (0.2, 0.2)),  # one number: square pixels
        ([0.05], (0.05, 0.05)),
    ],
)
def test_pixel_spacing_pair_reads_every_form_the_package_meets(value: object, expected: tuple) -> None:
    assert pixel_spacing_pair(value) == pytest.approx(expected)


@pytest.mark.parametrize(
    "value", [None, [math.nan, math.nan], [0.1, math.nan], [0, 1], [-0.1, 0.1], [math.inf, 1]]
)
def test_pixel_spacing_pair_unknown_is_nan_as_a_whole(value: object) -> None:
    row, col = pixel_spacing_pair(value)
    assert math.isnan(row) and math.isnan(col)
    assert pixel_spacing_pair(value, unknown=1.0) == (1.0, 1.0)  # pixel units, for an affine
    assert all(math.isnan(v) for v in mammo_meta(pixel_spacing=value)["pixel_spacing"])
    np.testing.assert_array_equal(geometry_meta((4, 4), value)["affine"], np.eye(3))


@pytest.mark.parametrize("value", [[0.1, 0.1, 0.1], [], "abc", ["0.1", "x"], {"row": 0.1}])
def test_pixel_spacing_pair_refuses_what_is_not_one_or_two_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="pixel_spacing must be"):
        pixel_spacing_pair(value)


def test_laterality_score_finds_the_chest_wall_of_real_ddsm_films(shared_data):
    """DDSM films have a fixed orientation per scanner (``ddsm_boxes/README.md``): the chest wall is on the
    right for scanner A left breasts and scanner B/C/D right breasts, on the left otherwise. Every 8th of the
    802 films: the score's sign never contradicts it, and at most a few are too close to call (all 802: 0
    wrong, 7 unknown)."""
    import csv

    from PIL import Image

    folder = shared_data / "ddsm_boxes"
    rows = list(csv.DictReader((folder / "images.csv").open()))[::8]
    wrong, unknown = [], []
    for row in rows:
        side = row["laterality"][0]
        chest_wall_right = (side == "L") == row["image"].startswith("A_")
        image = np.asarray(Image.open(folder / "images" / row["image"]).convert("L"))
        got = laterality_from_image(image)  # the chest-wall side: L = left
        if got is Laterality.UNKNOWN:
            unknown.append(row["image"])
        elif (got is Laterality.RIGHT) != chest_wall_right:
            wrong.append(row["image"])
    assert len(rows) == 101 and not wrong
    assert len(unknown) <= 2, unknown


@pytest.mark.parametrize(
    "parse, value, expected",
    [
        (parse_photometric, " monochrome1 ", PhotometricInterpretation.MONOCHROME1),
        (parse_photometric, "MONOCHROME2", PhotometricInterpretation.MONOCHROME2),
        (parse_photometric, "RGB", PhotometricInterpretation.UNKNOWN),
        (parse_photometric, None, PhotometricInterpretation.UNKNOWN),
        (parse_presentation_intent, "for presentation", PresentationIntent.FOR_PRESENTATION),
        (parse_presentation_intent, "", PresentationIntent.UNKNOWN),
        (parse_presentation_intent, 3, PresentationIntent.UNKNOWN),
    ],
)
def test_dicom_codes_become_members_or_unknown(parse, value, expected):
    assert parse(value) is expected
