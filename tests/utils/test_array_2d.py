"""``as_2d``: one (H, W) numpy plane from the channel-first data of a single 2-D mammogram, map or mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from monai_mammo.data.phantom import make_phantom
from monai_mammo.utils.array_2d import as_2d

PHANTOM = make_phantom((96, 80), seed=3)


@pytest.mark.parametrize(
    "convert",
    [
        lambda a: a,
        lambda a: a[None],
        lambda a: a[None, None],
        torch.from_numpy,
        lambda a: torch.from_numpy(a)[None].requires_grad_(True),
        lambda a: MetaTensor(torch.from_numpy(a)[None], meta={"pixel_spacing": [0.1, 0.1]}),
        lambda a: a.tolist(),
    ],
)
def test_every_single_image_form_gives_the_same_plane(convert) -> None:
    image = PHANTOM.image.astype(np.float32)
    out = as_2d(convert(image), "image")
    assert type(out) is np.ndarray and out.shape == image.shape
    np.testing.assert_array_equal(out, image)


@pytest.mark.parametrize("shape", [(2, 96, 80), (1, 2, 96, 80), (96,), (), (2, 1, 96, 80)])
def test_several_images_or_no_image_are_refused_by_name(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"heatmap must be one 2D image \(H, W\).*got shape"):
        as_2d(np.zeros(shape), "heatmap")
