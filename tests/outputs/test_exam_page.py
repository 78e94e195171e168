"""exam_page: the layers of a view (mirroring, downscaling, overlays), escaping, the index order.

The pages in a real browser: tests/bundles/test_exam_report_page.py.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from monai_mammo.data import MammoAutoReader
from monai_mammo.outputs.exam_page import exam_page_html, index_page_html, suspicion, view_layers

SAMPLE = Path(__file__).resolve().parents[2] / "bundles" / "mammo_classification" / "sample" / "images"


def _png(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


def _breast(chest_wall: str, shape: tuple[int, int] = (300, 200)) -> np.ndarray:
    """A half-disc breast whose flat side (the chest wall) is at the ``chest_wall`` edge."""
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    centre_col = 0 if chest_wall == "left" else shape[1] - 1
    inside = (rows - shape[0] / 2) ** 2 + (cols - centre_col) ** 2 < (0.45 * shape[0]) ** 2
    return np.where(inside, 800.0, 20.0).astype(np.float32)


@pytest.mark.parametrize(
    ("chest_wall", "laterality", "mirrored"),
    [
        ("left", "L", False),
        ("left", "R", True),
        ("right", "R", False),
        ("right", "L", True),
        ("left", None, False),
    ],
)
def test_a_view_is_mirrored_so_that_its_chest_wall_faces_the_other_breast(
    chest_wall: str, laterality: str | None, mirrored: bool
) -> None:
    layers = view_layers(_breast(chest_wall), None, None, laterality)
    assert layers["mirrored"] is mirrored
    assert (layers["chest_wall_score"] > 0) == (chest_wall == "left")


def test_layers_are_downscaled_with_the_heat_in_red_and_the_lesion_outlined() -> None:
    image = _breast("left", (1600, 1000))
    heat = np.zeros(image.shape, np.float32)
    heat[400:800, 200:600] = 1.0
    mask = np.zeros(image.shape, np.uint8)
    mask[500:700, 300:500] = 1
    layers = view_layers(image, heat, mask, "L", max_size=800)
    assert layers["size"] == (800, 500)
    grey, red, outline = (_png(layers[k]) for k in ("image", "heat", "lesions"))
    assert grey.shape == (800, 500) and red.shape == outline.shape == (800, 500, 4)
    assert red[300, 150, 3] == pytest.approx(0.6 * 255, abs=2) and red[10, 10, 3] == 0
    assert (red[..., 0] == 255).all()
    drawn = outline[..., 3] > 0
    assert drawn[250:350, 150].any() and not drawn[300, 200]  # the edge, not the inside
    assert (outline[drawn][:, :3] == (255, 255, 0)).all()
    with pytest.raises(ValueError, match="heat"):
        view_layers(image, heat[:10], None, "L")


@pytest.mark.parametrize("name", ["R_CC", "L_CC", "R_MLO", "L_MLO"])
def test_the_sample_views_hang_with_their_chest_walls_facing(name: str) -> None:
    """The bundle sample's DICOMs, read as ExamReport reads them, are stored in the display orientation."""
    reader = MammoAutoReader()
    image, _ = reader.get_data(reader.read(str(SAMPLE / f"phantom-21-0000_{name}.dcm")))
    layers = view_layers(np.asarray(image)[0], None, None, name[0])
    assert layers["mirrored"] is False and abs(layers["chest_wall_score"]) > 0.3


def test_every_text_is_escaped() -> None:
    hostile = '<script>alert("x")</script>'
    report = {
        "exam_id": hostile,
        "patient_id": hostile,
        "class_names": ["normal", "malignant"],
        "exam": {"malignant": 0.5, "predicted_class": hostile},
        "breasts": [{"laterality": hostile, "views": "CC", "p_malignant": 0.5}],
        "images": [],
        "aggregation": {"breast": hostile, "exam": "max"},
    }
    for page in (
        exam_page_html(report, {}, limits=hostile),
        index_page_html([{"exam_id": hostile, "folder": '"><b', "malignant": 0.1}], limits=hostile),
    ):
        assert "<script" not in page and "&lt;script&gt;" in page and '"><b' not in page
    assert exam_page_html(report, {}).count("not in this exam") == 4


def test_the_index_is_sorted_by_suspicion_with_unknown_scores_last() -> None:
    rows = [
        {"exam_id": "low", "folder": "low", "malignant": 0.1},
        {"exam_id": "none", "folder": "none", "malignant": None},
        {"exam_id": "high", "folder": "high", "malignant": 0.9},
        {"exam_id": "nan", "folder": "nan", "malignant": float("nan")},
        {"exam_id": "mid", "folder": "mid", "malignant": 0.5},
    ]
    page = index_page_html(rows)
    order = [page.index(f'href="{name}/report.html"') for name in ("high", "mid", "low")]
    assert order == sorted(order) and page.index('href="low/') < page.index('href="none/')
    assert suspicion({"malignant": True}) is None and suspicion({"abnormal": 0.3}, "abnormal") == 0.3


def test_views_beyond_the_four_slots_are_shown_below_the_hanging() -> None:
    images = [
        {"name": "rcc", "laterality": "R", "view": "CC", "probabilities": {"malignant": 0.2}},
        {"name": "rcc2", "laterality": "R", "view": "CC", "probabilities": {"malignant": 0.3}},
        {"name": "lml", "laterality": "L", "view": "ML", "probabilities": {"malignant": 0.4}},
    ]
    layers = {
        i["name"]: view_layers(
            _breast("right" if i["laterality"] == "R" else "left"), None, None, i["laterality"]
        )
        for i in images
    }
    page = exam_page_html({"exam_id": "e", "images": images}, layers)
    assert page.count('class="view present"') == 1 and page.count("not in this exam") == 3
    assert page.count('class="view other"') == 2 and 'data-laterality="L" data-view="ML"' in page
    assert page.index('class="hanging"') < page.index('class="others"') < page.index('data-view="ML"')
