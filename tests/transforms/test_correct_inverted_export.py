"""CorrectInvertedExport(d): inverted exports found and reflected back, nothing else touched.

Real images are read with the project's readers, then judged as given and inverted (``max + min - x``), each
also stretched to a square and re-encoded as JPEG, as public dumps hold them. The fast suite runs a subset
(with the hardest films); ``-m slow`` runs every image of ``../shared/data``.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import LoadImage, LoadImaged, Resize
from PIL import Image
from transform_helpers import ARRAY_TYPES, as_type, to_numpy

from monai_mammo.data import MammoDicomReader, MammoImageReader
from monai_mammo.data.phantom import make_phantom, write_phantom_dicom
from monai_mammo.transforms import (
    BreastMaskd,
    CorrectInvertedExport,
    CorrectInvertedExportD,
    CorrectInvertedExportd,
    CorrectInvertedExportDict,
    InversionDecision,
)
from monai_mammo.utils.enums import InversionMetaKey

KEYS = [k.value for k in InversionMetaKey]
MARGIN = CorrectInvertedExport().margin
# films whose breast fills the frame: their evidence may fall inside the margin (left unchanged, never wrong)
FRAME_FILLING = {"mdb151", "mdb280", "A_1160_1-RIGHT_CC", "A_1160_1-RIGHT_MLO", "A_1796_1-RIGHT_MLO"}
FAST_MIAS = [f"mdb{i:03d}" for i in (1, 2, 3, 4, 7, 8, 9, 10, 13, 14, 139, 140, 151, 152, 280)]
FAST_DDSM = [
    "A_1128_1-LEFT_MLO",  # fatty breast filling the film, striped scanner background
    "A_1160_1-RIGHT_CC",
    "A_1701_1-LEFT_CC",
    "A_1729_1-RIGHT_MLO",
    "B_3074_1-RIGHT_CC",
    "C_0125_1-RIGHT_CC",  # grey background, white film edges, black label patch
    "C_0106_1-LEFT_CC",
    "D_4103_1-RIGHT_CC",
]


def phantom_image(seed: int = 0, view: str = "CC", shape=(256, 208)) -> np.ndarray:
    """A digital-like phantom ``(1, H, W)`` float32 (uint16 values, background about 0)."""
    return make_phantom(shape, seed=seed, view=view).image.astype(np.float32)[None]


# ------------------------------------------------------------------------------------------ decisions


@pytest.mark.parametrize("kind", ARRAY_TYPES)
def test_inverted_phantom_reflected_back_exactly(kind):
    upright = phantom_image()
    inverted = upright.max() + upright.min() - upright
    out = CorrectInvertedExport()(as_type(inverted, kind))
    assert type(out) is type(as_type(inverted, kind))
    np.testing.assert_array_equal(to_numpy(out), upright)
    if kind == "metatensor":
        assert out.meta[InversionMetaKey.INVERTED.value] is True
        assert out.meta[InversionMetaKey.SOURCE.value] == "image"
        assert out.meta[InversionMetaKey.SCORE.value] > 0.5


@pytest.mark.parametrize("kind", ARRAY_TYPES)
def test_upright_phantom_returned_unchanged(kind):
    img = as_type(phantom_image(seed=4, view="MLO"), kind)
    out = CorrectInvertedExport()(img)
    assert out is img
    if kind == "metatensor":
        assert out.meta[InversionMetaKey.INVERTED.value] is False
        assert out.meta[InversionMetaKey.SCORE.value] < -0.5


@pytest.mark.parametrize(
    "dtype", [np.uint8, np.uint16, np.int16, np.float32, np.float64], ids=lambda d: np.dtype(d).name
)
def test_value_range_and_dtype_kept(dtype):
    """``max + min - x``: an 8-bit export stays in its range (e.g. 3..250 -> 3..250), integers stay exact."""
    unit = phantom_image(seed=2)
    unit = (unit - unit.min()) / (unit.max() - unit.min())
    top = {np.uint8: 250, np.uint16: 60000, np.int16: 30000}.get(dtype, 1.0)
    upright = (3 + unit * (top - 3)).round() if top != 1.0 else unit
    upright = upright.astype(dtype)
    inverted = (upright.astype(np.float64).max() + upright.min() - upright.astype(np.float64)).astype(dtype)
    for img in (inverted, torch.from_numpy(inverted.copy())):
        out = CorrectInvertedExport()(img)
        assert to_numpy(out).dtype == np.dtype(dtype)
        if np.dtype(dtype).kind == "f":  # one rounding of (max + min) - x
            np.testing.assert_allclose(to_numpy(out), upright, atol=1e-6)
        else:
            np.testing.assert_array_equal(to_numpy(out), upright)


def test_override_beats_the_image():
    img = MetaTensor(torch.from_numpy(phantom_image()))
    flipped = CorrectInvertedExport(inverted=True)(img)
    np.testing.assert_array_equal(to_numpy(flipped), img.max().item() + img.min().item() - to_numpy(img))
    assert flipped.meta[InversionMetaKey.SOURCE.value] == "override"
    assert math.isnan(flipped.meta[InversionMetaKey.SCORE.value])
    inverted = img.max() + img.min() - img
    kept = CorrectInvertedExport(inverted=False)(inverted)
    np.testing.assert_array_equal(to_numpy(kept), to_numpy(inverted))
    assert kept.meta[InversionMetaKey.INVERTED.value] is False
    # the call's argument beats the constructor's
    assert CorrectInvertedExport(inverted=True).decide(img, inverted=False).invert is False


def test_second_run_does_nothing():
    inverted = phantom_image()
    inverted = MetaTensor(torch.from_numpy(inverted.max() + inverted.min() - inverted))
    corrector = CorrectInvertedExport()
    once = corrector(inverted)
    twice = corrector(once)
    assert twice is once and twice.meta[InversionMetaKey.INVERTED.value] is True
    decision = corrector.decide(once)
    assert decision.recorded and not decision.invert and decision.source == "image"


def test_unsure_image_left_unchanged():
    """No evidence (a constant image): score 0, inside the margin, nothing done, the score recorded."""
    img = MetaTensor(torch.full((1, 64, 48), 9.0))
    out = CorrectInvertedExport()(img)
    assert out is img and out.meta[InversionMetaKey.INVERTED.value] is False
    assert out.meta[InversionMetaKey.SCORE.value] == 0.0
    fresh = torch.full((1, 64, 48), 9.0)
    assert CorrectInvertedExport(margin=0.0).decide(fresh) == InversionDecision(False, "image", 0.0)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"margin": -0.1}, ValueError, "margin"),
        ({"margin": 1.5}, ValueError, "margin"),
        ({"grid_size": 8}, ValueError, "grid_size"),
        ({"inverted": "yes"}, TypeError, "inverted"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        CorrectInvertedExport(**kwargs)


@pytest.mark.parametrize(
    "img,error",
    [
        (np.zeros((64, 64), np.float32), ValueError),
        (np.zeros((1, 8, 8), bool), TypeError),
        ([1, 2], TypeError),
    ],
)
def test_bad_images(img, error):
    with pytest.raises(error, match="CorrectInvertedExport"):
        CorrectInvertedExport()(img)


def test_nan_image_names_the_transform():
    img = phantom_image()
    img[0, 5, 5] = np.nan
    with pytest.raises(ValueError, match="CorrectInvertedExport.*NaN"):
        CorrectInvertedExport()(img)


# ----------------------------------------------------------------------------------- metadata (DICOM)


@pytest.fixture(scope="module")
def phantom_dicoms(tmp_path_factory) -> dict[str, Path]:
    phantom = make_phantom((256, 208), seed=7, view="MLO")
    folder = tmp_path_factory.mktemp("dicom")
    return {
        p: write_phantom_dicom(phantom, folder / f"{p}.dcm", photometric=p)
        for p in ("MONOCHROME1", "MONOCHROME2")
    }


def test_dicom_monochrome1_never_reflected_twice(phantom_dicoms):
    """The reader inverted the MONOCHROME1 file already: the transform leaves it (source: metadata)."""
    load = LoadImage(reader=MammoDicomReader(voi="raw"), image_only=True)
    mono1, mono2 = load(str(phantom_dicoms["MONOCHROME1"])), load(str(phantom_dicoms["MONOCHROME2"]))
    np.testing.assert_allclose(to_numpy(mono1), to_numpy(mono2))
    out = CorrectInvertedExport()(mono1)
    assert out is mono1
    assert out.meta[InversionMetaKey.SOURCE.value] == "metadata"
    assert out.meta[InversionMetaKey.INVERTED.value] is False
    assert math.isnan(out.meta[InversionMetaKey.SCORE.value])
    # a DICOM is trusted even when its pixels look inverted; the image decides only without trust
    looks_inverted = mono2.max() + mono2.min() - mono2
    assert CorrectInvertedExport()(looks_inverted.clone()).meta[InversionMetaKey.INVERTED.value] is False
    judged = CorrectInvertedExport(trust_metadata=False)(looks_inverted.clone())
    assert judged.meta[InversionMetaKey.INVERTED.value] is True
    np.testing.assert_allclose(to_numpy(judged), to_numpy(mono2))
    # forcing still works
    forced = CorrectInvertedExport(inverted=True)(mono1)
    assert forced.meta[InversionMetaKey.SOURCE.value] == "override"


# -------------------------------------------------------------------------------------------- dictionary


def test_aliases():
    assert (
        CorrectInvertedExportD is CorrectInvertedExportd
        and CorrectInvertedExportDict is CorrectInvertedExportd
    )


def test_each_key_decided_on_its_own():
    upright = phantom_image(seed=1)
    inverted = upright.max() + upright.min() - upright
    data = {"image": MetaTensor(torch.from_numpy(inverted)), "prior": MetaTensor(torch.from_numpy(upright))}
    out = CorrectInvertedExportd(["image", "prior"])(data)
    np.testing.assert_array_equal(to_numpy(out["image"]), upright)
    assert out["prior"] is data["prior"]
    assert out["image"].meta[InversionMetaKey.INVERTED.value] is True
    assert out["prior"].meta[InversionMetaKey.INVERTED.value] is False


@pytest.mark.parametrize(
    "flag,flipped,source",
    [
        (True, True, "override"),
        ("yes", True, "override"),
        (1, True, "override"),
        ("false", False, "override"),
        (0, False, "override"),
        (None, False, "image"),
        ("", False, "image"),
        (float("nan"), False, "image"),
    ],
)
def test_override_key_from_the_datalist(flag, flipped, source):
    upright = phantom_image(seed=3)
    data = {"image": MetaTensor(torch.from_numpy(upright)), "inverted": flag}
    out = CorrectInvertedExportd("image", override_key="inverted")(data)
    assert out["image"].meta[InversionMetaKey.INVERTED.value] is flipped
    assert out["image"].meta[InversionMetaKey.SOURCE.value] == source
    assert out["inverted"] is flag


def test_bad_override_value_names_the_key():
    data = {"image": torch.from_numpy(phantom_image()), "inverted": "maybe"}
    with pytest.raises(ValueError, match="CorrectInvertedExportd: key 'inverted'"):
        CorrectInvertedExportd("image", override_key="inverted")(data)


def test_missing_key():
    with pytest.raises(KeyError):
        CorrectInvertedExportd("image")({"label": np.zeros((1, 8, 8))})
    assert CorrectInvertedExportd("image", allow_missing_keys=True)({"x": 1}) == {"x": 1}


@pytest.mark.parametrize("view", ["CC", "MLO"])
def test_digital_exports_of_either_polarity_give_the_same_pipeline_output(tmp_path, view):
    """A phantom exported to 8-bit PNG as MONOCHROME2 and as MONOCHROME1 without inversion, both stretched to
    a square: after the correction the loaded images and their breast masks are the same (nothing downstream
    sees which export it got)."""
    image = make_phantom((512, 416), seed=11, view=view).image.astype(np.float64)
    u8 = np.round(255 * (image - image.min()) / (image.max() - image.min())).astype(np.uint8)
    stretched = np.asarray(Image.fromarray(u8).resize((640, 640), Image.BILINEAR))
    items = []
    for name, pixels in (("upright", stretched), ("inverted", 255 - stretched)):
        path = tmp_path / f"{name}.png"
        Image.fromarray(pixels).save(path)
        items.append({"image": str(path)})
    pipeline = [
        LoadImaged("image", reader=MammoImageReader()),
        CorrectInvertedExportd("image"),
        BreastMaskd("image"),
    ]
    out = []
    for item in items:
        for t in pipeline:
            item = t(item)
        out.append(item)
    assert out[0]["image"].meta[InversionMetaKey.INVERTED.value] is False
    assert out[1]["image"].meta[InversionMetaKey.INVERTED.value] is True
    np.testing.assert_allclose(to_numpy(out[1]["image"]), to_numpy(out[0]["image"]), atol=1e-6)
    np.testing.assert_array_equal(to_numpy(out[1]["breast_mask"]), to_numpy(out[0]["breast_mask"]))
    assert 0.2 < to_numpy(out[0]["breast_mask"]).mean() < 0.9


def test_laterality_inferred_from_inverted_pixels_is_inferred_again(shared_data, tmp_path):
    """mini-MIAS mdb019 (a right breast) exported inverted under a name without L/R: the reader takes the
    white background for the breast and says L; after the reflection the laterality is inferred again."""
    pixels = np.asarray(Image.open(shared_data / "mini_mias" / "images" / "mdb019.png").convert("L"))
    Image.fromarray(255 - pixels).save(tmp_path / "export_0001.png")
    Image.fromarray(pixels).save(tmp_path / "export_0002.png")
    load = LoadImage(reader=MammoImageReader(), image_only=True)
    inverted, upright = load(str(tmp_path / "export_0001.png")), load(str(tmp_path / "export_0002.png"))
    assert upright.meta["laterality"] == "R" and inverted.meta["laterality"] == "L"
    out = CorrectInvertedExport()(inverted)
    assert out.meta[InversionMetaKey.INVERTED.value] is True
    assert out.meta["laterality"] == "R" and out.meta["laterality_source"] == "image"
    # a laterality from the file name or tags is not touched
    named = load(str(tmp_path / "export_0001.png"))
    named.meta["laterality"], named.meta["laterality_source"] = "L", "text"
    assert CorrectInvertedExport()(named).meta["laterality"] == "L"


# ----------------------------------------------------------------------------------------- real images


def _jpeg(x: torch.Tensor, quality: int = 75) -> torch.Tensor:
    lo, hi = float(x.min()), float(x.max())
    u8 = np.round((x[0].numpy() - lo) / max(hi - lo, 1e-12) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(u8).save(buffer, "JPEG", quality=quality)
    return torch.from_numpy(np.asarray(Image.open(buffer), dtype=np.float32).copy())[None]


def _variants(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """As given / stretched to a square / JPEG, each also inverted (the export inverted, then stretched)."""
    side = 512 if tuple(x.shape[1:]) == (640, 640) else 640
    square = Resize((side, side), mode="area")
    out = {}
    for polarity, y in (("upright", x), ("inverted", x.max() + x.min() - x)):
        out[f"{polarity}"] = y
        out[f"{polarity} square"] = torch.as_tensor(square(y))
        out[f"{polarity} jpeg"] = _jpeg(y)
    return out


def _real_files(shared_data: Path, mias=None, ddsm=None, cesm=True, cbis=None) -> list[Path]:
    files = []
    for folder, names, suffix in (("mini_mias", mias, ".png"), ("ddsm_boxes", ddsm, ".png")):
        found = sorted((shared_data / folder / "images").glob(f"*{suffix}"))
        files += found if names is None else [p for p in found if p.stem in names]
    if cesm:
        files += sorted((shared_data / "cdd_cesm" / "images").glob("*.jpg"))
    dicoms = sorted((shared_data / "cbis_ddsm" / "dicom").glob("*.dcm"))
    files += dicoms if cbis is None else dicoms[:cbis]
    return files


def _judge(files: list[Path]) -> tuple[dict[str, int], list[str], list[tuple[str, float]]]:
    """Counts per outcome, wrong decisions, and inverted images left unsure (with their score)."""
    loaders = {
        "dcm": LoadImage(reader=MammoDicomReader(), image_only=True),
        "img": LoadImage(reader=MammoImageReader(infer_laterality=False), image_only=True),
    }
    corrector = CorrectInvertedExport()
    counts = {"upright kept": 0, "inverted reflected": 0, "inverted unsure": 0, "wrong": 0}
    wrong, unsure = [], []
    for path in files:
        image = loaders["dcm" if path.suffix == ".dcm" else "img"](str(path))
        # the pixels are judged (a DICOM's metadata would settle it without looking)
        for variant, x in _variants(image.as_tensor().float()).items():
            decision = corrector.decide(x)
            name = f"{path.stem} ({variant})"
            if variant.startswith("upright"):
                ok = not decision.invert
                counts["upright kept"] += ok
            elif decision.invert:
                ok = True
                counts["inverted reflected"] += 1
            else:
                ok = abs(decision.score) < MARGIN
                if ok:
                    counts["inverted unsure"] += 1
                    unsure.append((name, round(decision.score, 3)))
            if not ok:
                counts["wrong"] += 1
                wrong.append(f"{name}: score {decision.score:+.3f}")
    return counts, wrong, unsure


def _check(files: list[Path], max_unsure: int) -> dict[str, int]:
    counts, wrong, unsure = _judge(files)
    assert not wrong, f"wrong decisions: {wrong}"
    assert counts["upright kept"] == 3 * len(files)
    assert len(unsure) <= max_unsure, f"too many inverted images left unsure: {unsure}"
    assert {name.split(" (")[0] for name, _ in unsure} <= FRAME_FILLING, unsure
    print(counts, unsure)
    return counts


def test_real_images_subset(shared_data):
    """Hard films (breasts filling the film, striped or grey backgrounds, labels), every CDD-CESM digital JPEG
    and one CBIS-DDSM DICOM: never a wrong reflection; inverted copies reflected back except a few
    frame-filling films inside the margin."""
    files = _real_files(shared_data, mias=FAST_MIAS, ddsm=FAST_DDSM, cbis=1)
    assert len(files) == len(FAST_MIAS) + len(FAST_DDSM) + 9 + 1
    counts = _check(files, max_unsure=7)
    assert counts["inverted reflected"] >= 3 * len(files) - 7


@pytest.mark.slow
def test_every_real_image(shared_data):
    """All 1031 real images (216 mini-MIAS, 802 DDSM, 9 CDD-CESM, 4 CBIS-DDSM): as given, square, JPEG."""
    files = _real_files(shared_data)
    assert len(files) == 1031
    _check(files, max_unsure=12)
