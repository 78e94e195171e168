"""FlipAveraging: the mean over the input and its flips, alone and inside BreastSlidingWindowInferer."""

from __future__ import annotations

import pytest
import torch
from inferer_helpers import CountingPredictor, load_mias, tiny_unet

from monai_mammo.inferers import BreastSlidingWindowInferer, FlipAveraging


@pytest.fixture(scope="module")
def image(shared_data):
    return load_mias(shared_data, "mdb001", 96)


@pytest.mark.parametrize("axes", [[0], [1], [0, 1], 0])
def test_mean_of_flipped_predictions(image, axes):
    net = tiny_unet()
    counted = CountingPredictor(net)
    axes_list = [axes] if isinstance(axes, int) else axes
    with torch.inference_mode():
        out = FlipAveraging(counted, axes)(image)
        parts = [net(image)] + [torch.flip(net(torch.flip(image, [a + 2])), [a + 2]) for a in axes_list]
    torch.testing.assert_close(out, torch.stack(parts).mean(0), atol=1e-6, rtol=0)
    assert counted.calls == 1 + len(axes_list)
    assert not torch.allclose(out, parts[0], atol=1e-4)  # the network is not flip-symmetric


def test_empty_axes_is_the_network(image):
    net = tiny_unet()
    with torch.inference_mode():
        torch.testing.assert_close(FlipAveraging(net, [])(image), net(image))


def test_extra_arguments_reach_the_network(image):
    seen = []

    def net(x, scale, *, shift):
        seen.append((scale, shift))
        return x * scale + shift

    out = FlipAveraging(net, [0])(image, 2.0, shift=1.0)
    torch.testing.assert_close(out, image * 2.0 + 1.0)
    assert seen == [(2.0, 1.0), (2.0, 1.0)]


@pytest.mark.parametrize("axes", [[-1], [0, 0], ["a"]])
def test_bad_axes_refused(axes):
    with pytest.raises(ValueError):
        FlipAveraging(tiny_unet(), axes)


def test_axis_beyond_the_input_refused(image):
    with pytest.raises(ValueError, match="out of range"):
        FlipAveraging(tiny_unet(), [2])(image)


def test_output_that_cannot_be_flipped_back_refused(image):
    with pytest.raises(ValueError, match="spatial size"):
        FlipAveraging(lambda x: x[..., ::2, :], [0])(image)
    with pytest.raises(TypeError, match="tensor"):
        FlipAveraging(lambda x: (x, x), [0])(image)
    with pytest.raises(TypeError, match="callable"):
        FlipAveraging("net", [0])  # type: ignore[arg-type]


def test_inferer_flip_axes(image):
    """With one window covering the image, per-window flipping equals flipping the whole image and mask."""
    net = tiny_unet()
    mask = torch.zeros_like(image, dtype=torch.bool)
    mask[..., 10:80, :60] = True
    plain = BreastSlidingWindowInferer((96, 96), cval_outside=-5.0)
    flipping = BreastSlidingWindowInferer((96, 96), cval_outside=-5.0, flip_axes=[0])
    with torch.inference_mode():
        out = flipping(image, net, breast_mask=mask)
        direct = plain(image, net, breast_mask=mask)
        mirrored = torch.flip(plain(torch.flip(image, [2]), net, breast_mask=torch.flip(mask, [2])), [2])
    torch.testing.assert_close(out[mask], ((direct + mirrored) / 2)[mask], atol=1e-5, rtol=0)
    assert torch.all(out[~mask] == -5.0)


def test_inferer_refuses_bad_flip_axes():
    with pytest.raises(ValueError):
        BreastSlidingWindowInferer((64, 64), flip_axes=[-1])
