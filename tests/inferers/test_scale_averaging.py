"""ScaleAveraging: the mean over resized inputs, alone and inside BreastSlidingWindowInferer."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from inferer_helpers import CountingPredictor, load_mias, tiny_unet

from monai_mammo.inferers import BreastSlidingWindowInferer, FlipAveraging, ScaleAveraging


@pytest.fixture(scope="module")
def image(shared_data):
    return load_mias(shared_data, "mdb001", 96)


def resized(x: torch.Tensor, size: int, antialias: bool = False) -> torch.Tensor:
    return F.interpolate(x, size=[size, size], mode="bilinear", align_corners=False, antialias=antialias)


def test_mean_of_resized_predictions(image):
    net = tiny_unet()
    counted = CountingPredictor(net)
    with torch.inference_mode():
        out = ScaleAveraging(counted, scales=[1.0, 1.25, 0.5], size_multiple=8)(image)
        # 96 * 1.25 = 120 (a multiple of 8); 96 * 0.5 = 48, shrunk with anti-aliasing
        parts = [
            net(image),
            resized(net(resized(image, 120)), 96),
            resized(net(resized(image, 48, antialias=True)), 96),
        ]
    assert out.shape == image.shape
    torch.testing.assert_close(out, torch.stack(parts).mean(0), atol=1e-6, rtol=0)
    assert counted.calls == 3
    assert not torch.allclose(out, parts[0], atol=1e-4)  # the network is not scale-invariant


def test_sizes_round_to_the_multiple():
    averaging = ScaleAveraging(tiny_unet(), scales=[1.3], size_multiple=16)
    assert averaging.scaled_size([100, 60], 1.3) == [128, 80]
    assert averaging.scaled_size([10, 10], 0.2) == [16, 16]  # never below one multiple


def test_scale_one_is_the_network(image):
    net = tiny_unet()
    with torch.inference_mode():
        torch.testing.assert_close(ScaleAveraging(net, [1.0])(image), net(image))


def test_extra_arguments_reach_the_network(image):
    seen = []

    def net(x, gain, *, shift):
        seen.append((tuple(x.shape[2:]), gain, shift))
        return x * gain + shift

    out = ScaleAveraging(net, [1.0, 2.0], size_multiple=1)(image, 2.0, shift=1.0)
    assert out.shape == image.shape
    assert seen == [((96, 96), 2.0, 1.0), ((192, 192), 2.0, 1.0)]


@pytest.mark.parametrize("scales", [[0.0], [1.0, -1.0]])
def test_bad_scales_refused(scales):
    with pytest.raises(ValueError, match="positive"):
        ScaleAveraging(tiny_unet(), scales)


def test_bad_arguments_and_outputs_refused(image):
    with pytest.raises(ValueError, match="size_multiple"):
        ScaleAveraging(tiny_unet(), [1.0], size_multiple=0)
    with pytest.raises(ValueError, match="at least one scale"):
        ScaleAveraging(tiny_unet(), [])(image)
    with pytest.raises(ValueError, match="spatial size"):
        ScaleAveraging(lambda x: x[..., ::2, :], [1.0])(image)
    with pytest.raises(TypeError, match="tensor"):
        ScaleAveraging(lambda x: (x, x), [1.0])(image)
    with pytest.raises(TypeError, match="callable"):
        ScaleAveraging("net", [1.0])  # type: ignore[arg-type]


def test_inferer_scales_with_flips(image):
    """With one window covering the image, the inferer's scales and flips equal the wrappers around the
    network; outside the breast the output is cval_outside."""
    net = tiny_unet()
    mask = torch.zeros_like(image, dtype=torch.bool)
    mask[..., 10:80, :60] = True
    inferer = BreastSlidingWindowInferer((96, 96), cval_outside=-5.0, scales=[1.0, 1.5], flip_axes=[0])
    plain = BreastSlidingWindowInferer((96, 96), cval_outside=-5.0)
    with torch.inference_mode():
        out = inferer(image, net, breast_mask=mask)
        wrapped = plain(image, FlipAveraging(ScaleAveraging(net, [1.0, 1.5]), [0]), breast_mask=mask)
    torch.testing.assert_close(out, wrapped)
    assert torch.all(out[~mask] == -5.0)
    assert not torch.allclose(out[mask], plain(image, net, breast_mask=mask)[mask], atol=1e-4)


def test_inferer_refuses_bad_scales():
    with pytest.raises(ValueError):
        BreastSlidingWindowInferer((64, 64), scales=[0.0])
