"""The phantom generator: determinism, anatomy and orientation, lesions and their masks, texture, DICOM files,
the dataset writer and its datalist, the CLI, and reading phantoms back with MammoDicomReader."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.uid import (
    DigitalMammographyXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
)

from monai_mammo.data.phantom import (
    FULL_FIELD_SHAPE,
    MANUFACTURER,
    MAX_VALUE,
    BreastDensity,
    LesionKind,
    LesionSpec,
    MassMargin,
    Pathology,
    default_pixel_spacing,
    draw_patient,
    make_exam,
    make_phantom,
    phantom_to_dicom,
    write_phantom_dataset,
    write_phantom_dicom,
)
from monai_mammo.data.phantom.texture import power_law_field
from monai_mammo.utils.enums import Laterality, ViewPosition

SHAPE = (512, 416)
ALL_LESIONS = [
    LesionSpec(kind="mass", pathology="malignant", margin="spiculated", radius_mm=8.0),
    LesionSpec(kind="mass", pathology="benign", margin="circumscribed", radius_mm=7.0),
    LesionSpec(kind="calcification", pathology="malignant", radius_mm=5.0, n_calcifications=15),
    LesionSpec(kind="calcification", pathology="benign", radius_mm=4.0),
]


@pytest.fixture(scope="module")
def exam():
    """One woman, four views, with one lesion of every kind in each breast."""
    return make_exam(SHAPE, seed=11, lesions=ALL_LESIONS)


# ----------------------------------------------------------------------------- determinism
def test_same_seed_same_phantom_different_seed_different():
    a = make_phantom(SHAPE, seed=3, laterality="R", view="MLO")
    b = make_phantom(SHAPE, seed=3, laterality="R", view="MLO")
    c = make_phantom(SHAPE, seed=4, laterality="R", view="MLO")
    for name in ("image", "breast_mask", "lesion_mask", "pectoral_mask"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.lesions == b.lesions and a.image_id == b.image_id
    assert not np.array_equal(a.image, c.image)
    assert a.patient_id != c.patient_id


def test_make_phantom_is_one_view_of_make_exam(exam):
    for phantom in exam:
        alone = make_phantom(
            SHAPE, seed=11, laterality=phantom.laterality, view=phantom.view, lesions=ALL_LESIONS
        )
        np.testing.assert_array_equal(alone.image, phantom.image)
    assert [(p.laterality.value, p.view.value) for p in exam] == [
        ("L", "CC"),
        ("L", "MLO"),
        ("R", "CC"),
        ("R", "MLO"),
    ]
    assert len({p.patient_id for p in exam}) == 1 and len({p.image_id for p in exam}) == 4
    assert len({p.density for p in exam}) == 1


def test_anatomy_does_not_depend_on_image_size():
    """The random draws are size independent: the large phantom is a finer picture of the same breast."""
    small = make_phantom((256, 208), seed=5, lesions=[])
    large = make_phantom((1024, 832), seed=5, lesions=[])
    pooled = large.image.astype(float).reshape(256, 4, 208, 4).mean(axis=(1, 3))
    inside = small.breast_mask.astype(bool)
    assert np.corrcoef(pooled[inside], small.image[inside].astype(float))[0, 1] > 0.9
    assert abs(small.breast_fraction - large.breast_fraction) < 0.01


def test_overrides_change_only_their_part():
    base = draw_patient(8)
    dense = draw_patient(8, density="dense")
    assert dense.density == BreastDensity.D and dense.shapes == base.shapes
    assert draw_patient(8, lesions=[]).lesions == {Laterality.LEFT: (), Laterality.RIGHT: ()}
    only_left = draw_patient(8, lesions={"L": ALL_LESIONS[:1]})
    assert len(only_left.lesions[Laterality.LEFT]) == 1 and only_left.lesions[Laterality.RIGHT] == ()


# ----------------------------------------------------------------------------- anatomy and orientation
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("laterality", ["L", "R"])
@pytest.mark.parametrize("view", ["CC", "MLO"])
def test_breast_touches_its_own_edge_and_covers_40_to_55_percent(seed, laterality, view):
    phantom = make_phantom((256, 208), seed=seed, laterality=laterality, view=view, lesions=[])
    mask = phantom.breast_mask.astype(bool)
    chest, other = (mask[:, 0], mask[:, -1]) if laterality == "L" else (mask[:, -1], mask[:, 0])
    assert chest.mean() > 0.6  # the chest wall runs along the breast's own edge
    assert not other.any()  # and the nipple stays clear of the opposite edge
    assert 0.38 <= phantom.breast_fraction <= 0.57
    assert phantom.laterality == Laterality(laterality) and phantom.view == ViewPosition(view)


def test_pectoral_muscle_only_on_mlo_in_the_upper_chest_wall_corner(exam):
    for phantom in exam:
        pectoral = phantom.pectoral_mask.astype(bool)
        if phantom.view == ViewPosition.CC:
            assert not pectoral.any()
            continue
        rows, cols = phantom.shape
        assert 0.03 < pectoral.mean() < 0.3
        assert not (pectoral & ~phantom.breast_mask.astype(bool)).any()
        r, c = np.nonzero(pectoral)
        chest_col = 0 if phantom.laterality == Laterality.LEFT else cols - 1
        assert pectoral[0, chest_col]  # the corner itself
        assert r.mean() < rows / 3 and abs(c.mean() - chest_col) < cols / 4
        # The muscle is brighter than the breast tissue below it.
        tissue = phantom.breast_mask.astype(bool) & ~pectoral
        assert np.median(phantom.image[pectoral]) > np.median(phantom.image[tissue])


def test_image_range_background_and_spacing():
    phantom = make_phantom(SHAPE, seed=2)
    assert phantom.image.dtype == np.uint16 and phantom.image.max() <= MAX_VALUE
    background = phantom.image[phantom.breast_mask == 0]
    breast = phantom.image[phantom.breast_mask == 1]
    assert background.min() > 0 and background.std() > 0  # dark, noisy, never zero
    assert np.median(background) < 0.05 * MAX_VALUE < np.percentile(breast, 5)
    assert phantom.pixel_spacing == (default_pixel_spacing(SHAPE),) * 2
    assert default_pixel_spacing(FULL_FIELD_SHAPE) == pytest.approx(0.07)
    # The breast has a realistic physical size: 8-25 cm along the chest wall.
    extent_mm = phantom.breast_mask[:, 0].sum() * phantom.pixel_spacing[0]
    assert 80 < extent_mm < 250


def test_density_categories_order_the_brightness():
    means = [
        make_phantom((256, 208), seed=6, density=d, lesions=[])
        .image[make_phantom((256, 208), seed=6, density=d, lesions=[]).breast_mask == 1]
        .mean()
        for d in "ABCD"
    ]
    assert means == sorted(means)


def test_texture_follows_a_power_law_near_beta_3():
    """Mean power spectrum of 128-pixel tiles inside the breast at ~0.28 mm/pixel: 1/f^beta, beta ~ 2.3-3.5
    (CBIS-DDSM measures 2.7-3.6 the same way; see docs/phantom.md)."""
    phantom = make_phantom((1024, 832), seed=1, lesions=[])
    image = phantom.image.astype(float)
    mask = phantom.breast_mask.astype(bool)
    n = 128
    window = np.hanning(n)[:, None] * np.hanning(n)[None, :]
    total = np.zeros((n, n))
    tiles = 0
    for r in range(0, image.shape[0] - n, n // 2):
        for c in range(0, image.shape[1] - n, n // 2):
            if mask[r : r + n, c : c + n].all():
                tile = image[r : r + n, c : c + n]
                total += np.abs(np.fft.fft2((tile - tile.mean()) * window)) ** 2
                tiles += 1
    assert tiles >= 10
    freq = np.hypot(*np.meshgrid(np.fft.fftfreq(n) * n, np.fft.fftfreq(n) * n, indexing="ij")).astype(int)
    radial = np.bincount(freq.ravel(), total.ravel()) / np.bincount(freq.ravel())
    f = np.arange(4, n // 8 + 1)
    beta = -np.polyfit(np.log(f), np.log(radial[f]), 1)[0]
    assert 2.3 < beta < 3.5


def test_power_law_field_is_normalised_and_size_independent():
    variances = [power_law_field((128, 104), np.random.default_rng(s)).var() for s in range(64)]
    assert np.mean(variances) == pytest.approx(1.0, abs=0.15)
    small = power_law_field((128, 104), np.random.default_rng(0))
    large = power_law_field((512, 416), np.random.default_rng(0))
    assert np.corrcoef(small.ravel(), large[2::4, 2::4].ravel())[0, 1] > 0.95


# ----------------------------------------------------------------------------- lesions
def test_every_lesion_is_drawn_inside_the_breast_off_the_pectoral_in_both_views(exam):
    for phantom in exam:
        assert len(phantom.lesions) == len(ALL_LESIONS), phantom.image_id
        breast = phantom.breast_mask.astype(bool)
        lesion = phantom.lesion_mask.astype(bool)
        assert not (lesion & ~breast).any()
        assert not (lesion & phantom.pectoral_mask.astype(bool)).any()
        kinds = sorted((r.kind, r.margin or "", r.pathology) for r in phantom.lesions)
        expected = sorted((str(s.kind), str(s.margin or ""), str(s.pathology)) for s in ALL_LESIONS)
        assert kinds == expected
        assert phantom.label == 2 and phantom.pathology == Pathology.MALIGNANT


def test_lesion_mask_matches_the_records(exam):
    for phantom in exam:
        covered = np.zeros(phantom.shape, dtype=bool)
        for record in phantom.lesions:
            r0, c0, r1, c1 = record.bbox
            box = phantom.lesion_mask[r0:r1, c0:c1]
            # The bbox is tight: mask pixels on each of its four sides.
            assert box[0].any() and box[-1].any() and box[:, 0].any() and box[:, -1].any()
            row, col = record.centre
            assert r0 <= row < r1 and c0 <= col < c1
            assert phantom.breast_mask[int(round(row)), int(round(col))] == 1
            expected_mm = record.radius_px * phantom.pixel_spacing[0]
            assert record.radius_mm == pytest.approx(expected_mm)
            covered[r0:r1, c0:c1] = True
        assert not (phantom.lesion_mask.astype(bool) & ~covered).any()


def test_right_breast_records_are_mirrored(exam):
    left, right = exam[0], exam[2]  # L-CC, R-CC: same breast shape family, records in stored orientation
    for record in right.lesions:
        r0, c0, r1, c1 = record.bbox
        assert right.lesion_mask[r0:r1, c0:c1].any()
        assert record.centre[1] > SHAPE[1] / 4  # right breasts sit on the right
    assert all(record.centre[1] < SHAPE[1] * 3 / 4 for record in left.lesions)


def test_lesions_are_visible():
    """Masses are denser than their surroundings, calcifications are the brightest specks around."""
    from scipy import ndimage as ndi

    phantom = make_phantom((1024, 832), seed=4, density="B", lesions=ALL_LESIONS)
    image = phantom.image.astype(float)
    for record in phantom.lesions:
        r0, c0, r1, c1 = record.bbox
        mask = np.zeros(phantom.shape, dtype=bool)
        mask[r0:r1, c0:c1] = phantom.lesion_mask[r0:r1, c0:c1] == 1
        ring = ndi.binary_dilation(mask, iterations=int(record.radius_px)) & ~ndi.binary_dilation(
            mask, iterations=3
        )
        ring &= phantom.breast_mask == 1
        if record.kind == "mass":
            assert image[mask].mean() > image[ring].mean() + 150
        else:
            assert image[mask].max() > np.percentile(image[ring], 99.5) + 300


def test_calcification_clusters_and_spiculated_masses_look_as_described():
    benign = make_phantom(SHAPE, seed=9, lesions=[ALL_LESIONS[3]]).lesions[0]
    malignant = make_phantom(SHAPE, seed=9, lesions=[ALL_LESIONS[2]]).lesions[0]
    assert benign.n_calcifications == 7 and malignant.n_calcifications == 15
    assert benign.margin is None and benign.kind == str(LesionKind.CALCIFICATION)
    spiculated = make_phantom((1024, 832), seed=9, lesions=[ALL_LESIONS[0]])
    smooth = make_phantom(
        (1024, 832), seed=9, lesions=[LesionSpec("mass", "malignant", 8.0, margin="circumscribed")]
    )
    plain = make_phantom((1024, 832), seed=9, lesions=[])
    # Spicules add density well outside the core, a circumscribed mass does not.
    for phantom, far in ((spiculated, True), (smooth, False)):
        record = phantom.lesions[0]
        diff = phantom.image.astype(float) - plain.image
        r, c = (int(round(v)) for v in record.centre)
        radius = record.radius_px
        yy, xx = np.ogrid[: phantom.shape[0], : phantom.shape[1]]
        annulus = (np.hypot(yy - r, xx - c) > 1.5 * radius) & (np.hypot(yy - r, xx - c) < 2.2 * radius)
        assert (diff[annulus].max() > 100) == far


def test_random_lesions_and_labels():
    labels = [make_phantom((128, 104), seed=s, laterality=lat).label for s in range(12) for lat in "LR"]
    assert set(labels) == {0, 1, 2}
    normal = make_phantom((128, 104), seed=0, lesions=[])
    assert normal.label == 0 and normal.pathology == Pathology.NORMAL and not normal.lesion_mask.any()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shape": (32, 32)},
        {"shape": (512,)},
        {"seed": -1},
        {"laterality": "B"},
        {"view": "XCCL"},
        {"density": "E"},
        {"pixel_spacing": 0.0},
    ],
)
def test_bad_arguments_raise_value_errors(kwargs):
    with pytest.raises(ValueError):
        make_phantom(**kwargs)


def test_lesion_spec_validation():
    with pytest.raises(ValueError, match="benign or malignant"):
        LesionSpec("mass", "normal", 5.0)
    with pytest.raises(ValueError, match="no margin"):
        LesionSpec("calcification", "benign", 5.0, margin="spiculated")
    with pytest.raises(ValueError, match="radius_mm"):
        LesionSpec("mass", "benign", 100.0)
    with pytest.raises(ValueError):
        LesionSpec("cyst", "benign", 5.0)
    spec = LesionSpec("mass", "benign", 5.0)
    assert spec.margin == MassMargin.CIRCUMSCRIBED and spec.kind == LesionKind.MASS


def test_no_room_for_a_lesion_warns_and_leaves_it_out():
    huge = LesionSpec("mass", "malignant", 60.0, margin="circumscribed")
    with pytest.warns(UserWarning, match="no room"):
        phantom = make_phantom((128, 104), seed=0, lesions=[huge], pixel_spacing=0.2)
    assert phantom.lesions == () and phantom.label == 0


def test_to_dict_is_channel_first():
    phantom = make_phantom((128, 104), seed=1, lesions=ALL_LESIONS[:1])
    data = phantom.to_dict()
    assert data["image"].shape == (1, 128, 104) and data["image"].dtype == np.float32
    assert data["label"].shape == data["breast_mask"].shape == (1, 128, 104)
    assert data["class"] == phantom.label and data["meta"]["laterality"] == "L"
    json.dumps(data["lesions"])


@pytest.mark.slow
def test_full_field_phantom():
    phantom = make_phantom(FULL_FIELD_SHAPE, seed=0, view="MLO", lesions=ALL_LESIONS)
    assert phantom.shape == FULL_FIELD_SHAPE and phantom.image.dtype == np.uint16
    assert phantom.pixel_spacing == pytest.approx((0.07, 0.07))
    assert 0.38 < phantom.breast_fraction < 0.57 and len(phantom.lesions) == 4


# ----------------------------------------------------------------------------- DICOM
def test_dicom_file_is_a_valid_mammogram(tmp_path, exam):
    phantom = exam[3]  # R-MLO
    path = write_phantom_dicom(phantom, tmp_path / "x.dcm")
    assert path.read_bytes()[128:132] == b"DICM"
    ds = pydicom.dcmread(path)
    assert ds.file_meta.MediaStorageSOPClassUID == DigitalMammographyXRayImageStorageForPresentation
    assert ds.SOPClassUID == DigitalMammographyXRayImageStorageForPresentation
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert ds.Modality == "MG" and ds.Manufacturer == MANUFACTURER
    assert ds.ImageLaterality == "R" and "Laterality" not in ds and ds.ViewPosition == "MLO"
    assert ds.AcquisitionContextSequence == [] and ds.AnatomicRegionSequence[0].CodeValue == "76752008"
    assert (
        ds.ViewCodeSequence[0].CodeValue == "399368009"
        and ds.ViewCodeSequence[0].CodingSchemeDesignator == "SCT"
    )
    assert list(ds.PatientOrientation) == ["P", "FL"]
    assert [float(v) for v in ds.PixelSpacing] == pytest.approx(list(phantom.pixel_spacing))
    assert [float(v) for v in ds.ImagerPixelSpacing] == pytest.approx(list(phantom.pixel_spacing))
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 12, 11, 0)
    assert ds.PhotometricInterpretation == "MONOCHROME2" and ds.PresentationLUTShape == "IDENTITY"
    assert ds.PresentationIntentType == "FOR PRESENTATION"
    assert float(ds.RescaleSlope) == 1.0 and float(ds.RescaleIntercept) == 0.0
    assert 0 < float(ds.WindowCenter) < MAX_VALUE and 0 < float(ds.WindowWidth) <= MAX_VALUE + 1
    assert ds.PatientID == phantom.patient_id
    np.testing.assert_array_equal(ds.pixel_array, phantom.image)


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) is not installed")
@pytest.mark.parametrize("options", [{}, {"photometric": "MONOCHROME1", "transfer_syntax": RLELossless}])
def test_dciodvfy_finds_no_error(tmp_path, exam, options):
    """The DICOM validator of dicom3tools checks the file against the MG IOD (only warning: the defined
    terms of View Position, which the MG IOD does not list)."""
    for phantom in (exam[0], exam[3]):
        path = write_phantom_dicom(phantom, tmp_path / f"{phantom.image_id}.dcm", **options)
        report = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
        lines = (report.stdout + report.stderr).splitlines()
        assert "MammographyImageForPresentation" in lines[0]
        assert not [line for line in lines if line.startswith("Error")], lines


def test_dicom_uids_and_bytes_are_deterministic(tmp_path, exam):
    a = write_phantom_dicom(exam[0], tmp_path / "a.dcm").read_bytes()
    b = write_phantom_dicom(exam[0], tmp_path / "b.dcm").read_bytes()
    assert a == b
    first, second = (pydicom.dcmread(tmp_path / name) for name in ("a.dcm", "b.dcm"))
    other = phantom_to_dicom(exam[1])
    assert other.StudyInstanceUID == first.StudyInstanceUID  # one exam, one study
    assert other.SeriesInstanceUID != first.SeriesInstanceUID and other.SOPInstanceUID != first.SOPInstanceUID
    stranger = phantom_to_dicom(make_phantom(SHAPE, seed=12))
    assert stranger.StudyInstanceUID != first.StudyInstanceUID and stranger.PatientID != first.PatientID
    assert pydicom.uid.UID(first.SOPInstanceUID).is_valid and second.SOPInstanceUID == first.SOPInstanceUID


def test_monochrome1_is_stored_inverted(tmp_path, exam):
    phantom = exam[0]
    ds = pydicom.dcmread(write_phantom_dicom(phantom, tmp_path / "m1.dcm", photometric="MONOCHROME1"))
    assert ds.PhotometricInterpretation == "MONOCHROME1" and ds.PresentationLUTShape == "INVERSE"
    np.testing.assert_array_equal(ds.pixel_array, MAX_VALUE - phantom.image)
    m2 = phantom_to_dicom(phantom)
    assert float(ds.WindowCenter) == pytest.approx(MAX_VALUE - float(m2.WindowCenter))
    assert float(ds.WindowWidth) == pytest.approx(float(m2.WindowWidth))


@pytest.mark.parametrize("syntax", [RLELossless, ImplicitVRLittleEndian])
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_other_transfer_syntaxes_round_trip_exactly(tmp_path, exam, syntax, photometric):
    phantom = exam[2]
    path = write_phantom_dicom(phantom, tmp_path / "c.dcm", transfer_syntax=syntax, photometric=photometric)
    ds = pydicom.dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == syntax
    expected = phantom.image if photometric == "MONOCHROME2" else MAX_VALUE - phantom.image
    np.testing.assert_array_equal(ds.pixel_array, expected)


def test_dicom_options_and_bad_options(tmp_path, exam):
    ds = phantom_to_dicom(exam[0], window=False)
    assert "WindowCenter" not in ds and "WindowWidth" not in ds
    series = phantom_to_dicom(exam[0], laterality_tags="series")
    assert series.Laterality == "L" and "ImageLaterality" not in series
    both = phantom_to_dicom(exam[0], laterality_tags="both")
    assert both.Laterality == both.ImageLaterality == "L"
    with pytest.raises(ValueError, match="laterality_tags"):
        phantom_to_dicom(exam[0], laterality_tags="frame")
    with pytest.raises(ValueError, match="photometric"):
        phantom_to_dicom(exam[0], photometric="RGB")
    with pytest.raises(ValueError, match="transfer_syntax"):
        phantom_to_dicom(exam[0], transfer_syntax="1.2.3")
    with pytest.raises(ValueError, match="Big Endian"):
        write_phantom_dicom(exam[0], tmp_path / "big.dcm", transfer_syntax=pydicom.uid.ExplicitVRBigEndian)
    assert os.listdir(tmp_path) == []  # nothing half-written


# ----------------------------------------------------------------------------- dataset writer
@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantoms")
    return write_phantom_dataset(out, n_images=14, shape=(256, 208), seed=5)


def test_dataset_files_and_datalist_structure(dataset):
    root = dataset.parent
    data = json.loads(dataset.read_text())
    items = data["training"] + data["validation"] + data["test"]
    assert len(items) == 14 == data["numTraining"] + data["numValidation"] + data["numTest"]
    assert data["numPatients"] == 4
    assert sorted(os.listdir(root / "images")) == sorted(f"{i['image_id']}.dcm" for i in items)
    assert not [name for name in os.listdir(root) if name.endswith(".tmp") or name.startswith(".")]
    for item in items:
        assert not os.path.isabs(item["image"]) and item["image"].startswith("images/")
        assert item["label"] == f"labels/{item['image_id']}.png"
        assert item["class"] in (0, 1, 2) and item["class"] == Pathology(item["pathology"]).class_index
        assert item["malignant"] == int(item["class"] == 2)
        assert item["laterality"] in ("L", "R") and item["view"] in ("CC", "MLO")
        assert item["class"] == max(
            [Pathology(les["pathology"]).class_index for les in item["lesions"]], default=0
        )
        assert len(item["boxes"]) == len(item["lesions"])
        for box, lesion in zip(item["boxes"], item["lesions"]):
            assert box == [lesion["bbox"][1], lesion["bbox"][0], lesion["bbox"][3], lesion["bbox"][2]]
    # Exams: the first three women have their four views, the fourth two.
    views = {}
    for item in items:
        views.setdefault(item["patient_id"], set()).add((item["laterality"], item["view"]))
    assert sorted(len(v) for v in views.values()) == [2, 4, 4, 4]


def test_dataset_split_is_by_patient_with_every_fold_filled(dataset):
    from monai_mammo.data.datalist import validate_datalist

    data = json.loads(dataset.read_text())
    folds = {fold: {item["patient_id"] for item in data[fold]} for fold in ("training", "validation", "test")}
    assert all(folds.values())
    assert not (folds["training"] & folds["validation"] or folds["training"] & folds["test"])
    assert not folds["validation"] & folds["test"]
    report = validate_datalist(dataset)
    assert report.ok and sum(report.patients.values()) == 4


def test_dataset_masks_and_images_match_the_generator(dataset):
    data = json.loads(dataset.read_text())
    item = next(i for fold in ("training", "validation", "test") for i in data[fold] if i["lesions"])
    patient_index = int(item["patient_id"].rsplit("-", 1)[1])
    phantom = make_phantom(
        (256, 208), seed=5, laterality=item["laterality"], view=item["view"], patient_index=patient_index
    )
    root = dataset.parent
    label = np.asarray(Image.open(root / item["label"]))
    np.testing.assert_array_equal(label, phantom.lesion_mask)
    assert set(np.unique(label)) <= {0, 1} and label.any()
    np.testing.assert_array_equal(np.asarray(Image.open(root / item["breast_mask"])), phantom.breast_mask)
    np.testing.assert_array_equal(pydicom.dcmread(root / item["image"]).pixel_array, phantom.image)


def test_dataset_is_deterministic_and_loads_with_monai(dataset, tmp_path):
    from monai.data import load_decathlon_datalist

    again = write_phantom_dataset(tmp_path, n_images=14, shape=(256, 208), seed=5)
    assert again.read_bytes() == dataset.read_bytes()
    first = json.loads(dataset.read_text())["training"][0]["image"]
    assert (tmp_path / first).read_bytes() == (dataset.parent / first).read_bytes()
    for fold in ("training", "validation", "test"):
        items = load_decathlon_datalist(dataset, data_list_key=fold, base_dir=dataset.parent)
        assert items and all(os.path.isfile(i["image"]) and os.path.isfile(i["label"]) for i in items)


def test_dataset_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="n_images"):
        write_phantom_dataset(tmp_path, n_images=0)
    with pytest.raises(ValueError, match="seed"):
        write_phantom_dataset(tmp_path, n_images=1, seed=-3)


def test_cli_phantom_command(tmp_path):
    from monai_mammo.cli import main

    assert (
        main(["phantom", "--out", str(tmp_path), "--n", "4", "--rows", "128", "--cols", "104", "--seed", "2"])
        == 0
    )
    data = json.loads((tmp_path / "datalist.json").read_text())
    assert len(data["training"]) == 4 and data["shape"] == [128, 104] and data["seed"] == 2
    assert data["validation"] == [] and data["test"] == []  # a single woman cannot be split


# ----------------------------------------------------------------------------- reading back
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, RLELossless])
def test_mammo_dicom_reader_reads_phantoms(tmp_path, exam, photometric, syntax):
    from monai.transforms import LoadImage

    from monai_mammo.data import MammoDicomReader

    for phantom in (exam[0], exam[3]):
        path = write_phantom_dicom(
            phantom, tmp_path / f"{phantom.image_id}.dcm", photometric=photometric, transfer_syntax=syntax
        )
        image, meta = LoadImage(reader=MammoDicomReader(voi="raw"), image_only=False)(str(path))
        assert tuple(image.shape) == (1, *phantom.shape)
        np.testing.assert_array_equal(image.numpy()[0], phantom.image.astype(np.float32))
        assert meta["laterality"] == phantom.laterality.value and meta["view_position"] == phantom.view.value
        assert list(meta["pixel_spacing"]) == pytest.approx(list(phantom.pixel_spacing))
        assert meta["manufacturer"] == MANUFACTURER and meta["bits_stored"] == 12
        assert meta["laterality_source"] == "ImageLaterality"
        windowed = LoadImage(reader=MammoDicomReader(), image_only=True)(str(path))
        assert 0.0 <= float(windowed.min()) and float(windowed.max()) <= 1.0


def test_mammo_dicom_reader_falls_back_to_series_laterality(tmp_path, exam):
    from monai.transforms import LoadImage

    from monai_mammo.data import MammoDicomReader

    path = write_phantom_dicom(exam[2], tmp_path / "series.dcm", laterality_tags="series")
    _, meta = LoadImage(reader=MammoDicomReader(), image_only=False)(str(path))
    assert meta["laterality"] == "R" and meta["laterality_source"] == "Laterality"


def test_datalist_items_load_aligned_with_the_project_readers(dataset):
    """Image through MammoDicomReader and masks through MammoImageReader: both (1, H, W), masks 0/1."""
    from monai.data import load_decathlon_datalist
    from monai.transforms import LoadImaged

    from monai_mammo.data import MammoDicomReader, MammoImageReader

    item = next(i for i in load_decathlon_datalist(dataset, data_list_key="training") if i["lesions"])
    data = LoadImaged(keys="image", reader=MammoDicomReader())(item)
    data = LoadImaged(keys=["label", "breast_mask"], reader=MammoImageReader(voi="raw"))(data)
    assert data["image"].shape == data["label"].shape == data["breast_mask"].shape == (1, 256, 208)
    label = data["label"].numpy()[0]
    assert set(np.unique(label)) == {0.0, 1.0}
    r0, c0, r1, c1 = item["lesions"][0]["bbox"]
    assert label[r0:r1, c0:c1].any()
    assert data["image"].meta["laterality"] == item["laterality"]
