"""BreastSlidingWindowInferer: explicit mask, mask_fn, and use inside MONAI's SupervisedEvaluator."""

from __future__ import annotations

import pytest
import torch
from inferer_helpers import CountingPredictor, load_mias, tiny_unet
from monai.data import DataLoader, Dataset, MetaTensor
from monai.engines import SupervisedEvaluator
from monai.inferers import SlidingWindowInferer
from monai.utils import optional_import

from monai_mammo.inferers import (
    BatchBreastMask,
    BreastSlidingWindowInferer,
    breast_sliding_window_inference,
)

Events, _ = optional_import("ignite.engine", name="Events")


@pytest.fixture(scope="module")
def images(shared_data):
    return torch.cat([load_mias(shared_data, name, 192) for name in ("mdb001", "mdb002")])


def test_is_a_monai_sliding_window_inferer():
    inferer = BreastSlidingWindowInferer((64, 64), sw_batch_size=2, overlap=0.5, mode="gaussian")
    assert isinstance(inferer, SlidingWindowInferer)
    assert isinstance(inferer.mask_fn, BatchBreastMask)


def test_explicit_mask_equals_function(images):
    mask = torch.zeros_like(images, dtype=torch.bool)
    mask[0, :, 20:120, 60:150] = True
    mask[1, :, 90:, :100] = True
    net = tiny_unet()
    inferer = BreastSlidingWindowInferer(
        (64, 64), sw_batch_size=3, overlap=0.5, mode="gaussian", cache_roi_weight_map=True
    )
    with torch.inference_mode():
        out = inferer(images, net, breast_mask=mask)
        ref = breast_sliding_window_inference(images, mask, (64, 64), 3, net, 0.5, "gaussian")
    torch.testing.assert_close(out, ref, atol=1e-6, rtol=0)


def test_mask_fn_used_without_mask(images):
    net = tiny_unet()
    plain, breast = CountingPredictor(net), CountingPredictor(net)
    inferer = BreastSlidingWindowInferer((48, 48), sw_batch_size=4, overlap=0.25)
    with torch.inference_mode():
        out = inferer(images, breast)
        ref = SlidingWindowInferer((48, 48), sw_batch_size=4, overlap=0.25)(images, plain)
    mask = BatchBreastMask()(images)
    torch.testing.assert_close(out[mask], ref[mask], atol=1e-5, rtol=0)
    assert torch.all(out[~mask] == 0)
    assert breast.windows < plain.windows

    seen = []

    def my_mask(x):
        seen.append(x.shape)
        return torch.ones_like(x, dtype=torch.bool)

    custom = BreastSlidingWindowInferer((48, 48), sw_batch_size=4, overlap=0.25, mask_fn=my_mask)
    with torch.inference_mode():
        torch.testing.assert_close(custom(images, net), ref, atol=1e-5, rtol=0)
    assert seen == [images.shape]


def test_supervised_evaluator_runs_breast_aware(images):
    net = tiny_unet()
    data = [
        {"image": MetaTensor(img, meta={"filename_or_obj": f"img{i}.png"}), "label": (img > 0.5).float()}
        for i, img in enumerate(images)
    ]
    loader = DataLoader(Dataset(data), batch_size=2)
    outputs = []
    counter = CountingPredictor(net)

    class Net(torch.nn.Module):
        def forward(self, x):
            return counter(x)

    evaluator = SupervisedEvaluator(
        device=torch.device("cpu"),
        val_data_loader=loader,
        network=Net(),
        inferer=BreastSlidingWindowInferer((64, 64), sw_batch_size=4, overlap=0.25),
        decollate=False,
    )
    evaluator.add_event_handler(
        Events.ITERATION_COMPLETED, lambda engine: outputs.append(engine.state.output)
    )
    evaluator.run()
    pred = outputs[0]["pred"]
    assert pred.shape == images.shape
    assert isinstance(pred, MetaTensor) and pred.meta["filename_or_obj"] == ["img0.png", "img1.png"]
    with torch.inference_mode():
        plain = CountingPredictor(net)
        ref = SlidingWindowInferer((64, 64), sw_batch_size=4, overlap=0.25)(images, plain)
    mask = BatchBreastMask()(images)
    torch.testing.assert_close(pred.as_tensor()[mask], ref[mask], atol=1e-5, rtol=0)
    assert counter.windows < plain.windows


def test_bad_arguments():
    with pytest.raises(ValueError, match="min_overlap_pixels"):
        BreastSlidingWindowInferer((64, 64), min_overlap_pixels=0)
    with pytest.raises(TypeError, match="mask_fn"):
        BreastSlidingWindowInferer((64, 64), mask_fn="otsu")
