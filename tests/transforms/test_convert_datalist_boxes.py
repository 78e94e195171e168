"""ConvertDatalistBoxesd, and a real ddsm_boxes film's boxes through the whole geometric pipeline and back.

The round trip: datalist boxes -> MONAI order -> canonical side -> breast crop -> resize (MONAI's Resized
with ResizeBoxd, or ResizeToFitd) -> inverse of the whole Compose == the datalist boxes again; on the way, the
boxes must frame the weak lesion mask (the ellipse inscribed in the box) that MONAI moved with the image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from monai.data import MetaTensor
from monai.transforms import Compose, LoadImaged, Resized
from monai.transforms.inverse import TraceKeys
from transform_helpers import to_numpy

from monai_mammo.data import MammoAutoReader
from monai_mammo.data.datasets import BoxMask, scan_ddsm_boxes
from monai_mammo.transforms import (
    BreastMaskd,
    CanonicalLateralityd,
    ConvertDatalistBoxesD,
    ConvertDatalistBoxesd,
    ConvertDatalistBoxesDict,
    CropBreastd,
    ResizeBoxd,
    ResizeToFitd,
    swap_box_axes,
)


@pytest.mark.parametrize("kind", ["list", "numpy", "torch"])
def test_datalist_order_to_monai_order_and_back(kind):
    boxes = [[10.0, 20.0, 30.0, 60.0], [1.5, 2.5, 3.5, 4.5]]  # x0 y0 x1 y1, x the column
    given = {"list": boxes, "numpy": np.array(boxes), "torch": torch.tensor(boxes)}[kind]
    t = ConvertDatalistBoxesd("boxes")
    assert ConvertDatalistBoxesD is ConvertDatalistBoxesDict is ConvertDatalistBoxesd
    out = t({"boxes": given, "box_format": "xyxy_corner_px"})
    assert isinstance(out["boxes"], torch.Tensor) and out["boxes"].dtype == torch.float32
    np.testing.assert_array_equal(
        out["boxes"].numpy(), [[20, 10, 60, 30], [2.5, 1.5, 4.5, 3.5]]
    )  # rows first
    back = t.inverse(out)
    np.testing.assert_array_equal(np.asarray(back["boxes"]), boxes)
    assert t.inverse({"image": 1}) == {"image": 1}  # Invertd on another key: nothing to do


def test_empty_boxes_and_refused_inputs():
    out = ConvertDatalistBoxesd("boxes")({"boxes": []})
    assert tuple(out["boxes"].shape) == (0, 4)
    with pytest.raises(ValueError, match=r"ConvertDatalistBoxesd: 'box_format' is 'xywh'"):
        ConvertDatalistBoxesd("boxes")({"boxes": [[0, 0, 1, 1]], "box_format": "xywh"})
    assert ConvertDatalistBoxesd("boxes", format_key=None)({"boxes": [[0, 0, 1, 2]], "box_format": "xywh"})
    for bad in ([[0, 0, 1]], [[0, 0, 1], [2, 3, 4], [5, 6, 7], [8, 9, 10]]):
        with pytest.raises(ValueError, match=r"ConvertDatalistBoxesd, key 'boxes': .*\(N, 4\)"):
            ConvertDatalistBoxesd("boxes")({"boxes": bad})
    with pytest.raises(ValueError, match=r"ConvertDatalistBoxesd, key 'boxes': .*x0, y0, x1, y1"):
        ConvertDatalistBoxesd("boxes")({"boxes": [[0, 0, 1, 1], [2, 3]]})
    with pytest.raises(KeyError, match="ConvertDatalistBoxesd"):
        ConvertDatalistBoxesd("boxes")({"image": 0})
    np.testing.assert_array_equal(
        swap_box_axes(swap_box_axes(np.arange(8.0).reshape(2, 4))), np.arange(8.0).reshape(2, 4)
    )


# ------------------------------------------------------------------------------- a real film
def _extent(mask: np.ndarray) -> list[int]:
    rows, cols = np.nonzero(mask)
    return [int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1]


def _pipeline(resize: str) -> Compose:
    keys = ["image", "label"]
    steps = [
        ConvertDatalistBoxesd("boxes"),
        CanonicalLateralityd(keys, laterality_key="laterality", box_keys="boxes"),
        BreastMaskd("image"),
        CropBreastd([*keys, "breast_mask"], box_keys="boxes", margin=8),
    ]
    if resize == "Resized":
        steps += [
            Resized(keys, spatial_size=448, size_mode="longest", mode=["area", "nearest"]),
            ResizeBoxd("boxes", box_ref_image_key="image"),
        ]
    else:
        steps += [ResizeToFitd(keys, spatial_size=(384, 320), mode=["bilinear", "nearest"], box_keys="boxes")]
    return Compose(steps)


@pytest.fixture(scope="module")
def ddsm_items(shared_data: Path) -> dict[str, dict]:
    root = shared_data / "ddsm_boxes"
    if not (root / "images.csv").is_file():
        pytest.skip(f"{root} has no images.csv")
    records = {r.key: r for r in scan_ddsm_boxes(root).records}
    # scanner A: the left film has its chest wall on the right (flipped), the right one on the left
    return {k: records[k] for k in ("A_1108_1-LEFT_CC", "A_1399_1-RIGHT_MLO")}


@pytest.mark.parametrize("resize", ["Resized", "ResizeToFitd"])
@pytest.mark.parametrize("key", ["A_1108_1-LEFT_CC", "A_1399_1-RIGHT_MLO"])
def test_real_boxes_follow_the_pipeline_and_invert(ddsm_items, key, resize):
    record = ddsm_items[key]
    data = LoadImaged("image", reader=MammoAutoReader())({"image": record.image})
    image = data["image"]
    mask, _ = BoxMask(tuple(tuple(b) for b in record.boxes)).render(tuple(image.shape[1:]))
    data.update(
        label=MetaTensor(torch.from_numpy(mask[None].astype(np.float32)), meta=dict(image.meta)),
        boxes=record.boxes,
        box_format="xyxy_corner_px",
        laterality=record.fields["laterality"],
    )
    pipeline = _pipeline(resize)
    out = pipeline(data)
    flipped = out["image"].applied_operations[0][TraceKeys.EXTRA_INFO]["flipped"]
    assert flipped == (key == "A_1108_1-LEFT_CC")
    # the boxes frame the weak mask that MONAI resampled with the image (to a pixel or two of resampling)
    label = to_numpy(out["label"])[0] > 0.5
    box = out["boxes"][0].numpy()
    np.testing.assert_allclose(_extent(label), box, atol=2.0)
    # and everything maps back: the datalist boxes, to well under a pixel
    back = pipeline.inverse(out)
    np.testing.assert_allclose(np.asarray(back["boxes"]), record.boxes, atol=1e-3)
    assert tuple(back["image"].shape[1:]) == tuple(image.shape[1:])
    np.testing.assert_allclose(_extent(to_numpy(back["label"])[0] > 0.5), _extent(mask[None][0]), atol=2)
