"""LesionEvidenceDenseNet: image logits are those of the most suspicious place of its evidence map."""

from __future__ import annotations

import io

import pytest
import torch
from monai.visualize import GradCAM

from monai_mammo.networks import LesionEvidenceDenseNet


def small_net(seed: int = 0) -> LesionEvidenceDenseNet:
    torch.manual_seed(seed)
    return LesionEvidenceDenseNet(
        spatial_dims=2,
        in_channels=1,
        out_channels=3,
        init_features=8,
        growth_rate=4,
        block_config=(2, 2, 2, 2),
    ).eval()


@pytest.mark.parametrize("shape", [(2, 1, 64, 64), (1, 1, 128, 96), (3, 1, 96, 160)])
def test_logits_are_the_most_suspicious_place(shape: tuple[int, ...]) -> None:
    net = small_net()
    x = torch.randn(*shape)
    with torch.no_grad():
        logits = net(x)
        evidence = net.evidence_map(x)
    assert logits.shape == (shape[0], 3)
    assert evidence.shape == (shape[0], 3, shape[2] // 32, shape[3] // 32)
    flat = evidence.flatten(2)
    for b in range(shape[0]):
        place = int(flat[b].softmax(0)[0].argmin())
        assert torch.allclose(logits[b], flat[b, :, place], atol=1e-6)


def test_a_patch_scores_as_it_does_inside_an_image() -> None:
    """The same head reads a patch and a whole image: a lesion-like blob moves the image's score with it."""
    net = small_net(1)
    image = torch.zeros(1, 1, 128, 128)
    with torch.no_grad():
        flat_image = net(image)
        image[..., 40:72, 40:72] = 3.0
        blob_image = net(image)
        patch = net(image[..., 32:96, 32:96])
    assert not torch.allclose(flat_image, blob_image)  # the blob changes the most suspicious place's logits
    assert patch.shape == blob_image.shape


def test_gradients_reach_only_the_chosen_place() -> None:
    net = small_net(2).train()
    x = torch.randn(2, 1, 96, 96, requires_grad=True)
    net(x)[:, 2].sum().backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_gradcam_of_the_densenet_layer_name_works() -> None:
    net = small_net(3)
    cam = GradCAM(net, "class_layers.relu")(torch.randn(1, 1, 96, 64), class_idx=2)
    assert cam.shape == (1, 1, 96, 64)
    assert torch.isfinite(cam).all()


def test_weights_round_trip_with_weights_only() -> None:
    net = small_net(4)
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    buffer.seek(0)
    other = small_net(5)
    other.load_state_dict(torch.load(buffer, weights_only=True))
    x = torch.randn(1, 1, 64, 64)
    with torch.no_grad():
        assert torch.equal(net(x), other(x))


def test_needs_a_background_and_a_lesion_class() -> None:
    with pytest.raises(ValueError, match="out_channels must be >= 2"):
        LesionEvidenceDenseNet(out_channels=1)
