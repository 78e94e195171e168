"""GradCAMInferer: logits plus a Grad-CAM heat map in one call, also under a MONAI evaluator's no_grad."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from monai.data import MetaTensor
from monai.networks.nets import DenseNet121
from monai.visualize import GradCAM

from monai_mammo.inferers import GradCAMInferer, normalize_heatmap


@pytest.fixture(scope="module")
def network() -> torch.nn.Module:
    torch.manual_seed(0)
    return DenseNet121(spatial_dims=2, in_channels=1, out_channels=3, init_features=8, growth_rate=4).eval()


def bright_square(size: tuple[int, int] = (96, 64), at: tuple[int, int] = (20, 40)) -> torch.Tensor:
    x = torch.zeros(1, 1, *size)
    x[..., at[0] : at[0] + 16, at[1] : at[1] + 16] = 1.0
    return x


def test_normalize_heatmap_scales_each_map_to_unit_range_and_keeps_blank_maps_zero() -> None:
    maps = torch.stack([torch.arange(6.0).reshape(1, 2, 3), torch.full((1, 2, 3), 4.0)])
    out = normalize_heatmap(maps)
    assert torch.allclose(out[0], maps[0] / 5.0)
    assert torch.count_nonzero(out[1]) == 0


def test_logits_equal_the_network_and_the_map_equals_monai_gradcam(network: torch.nn.Module) -> None:
    x = MetaTensor(torch.rand(2, 1, 64, 64, generator=torch.Generator().manual_seed(1)))
    inferer = GradCAMInferer(target_layers="class_layers.relu", class_index=2)
    with torch.no_grad():  # as SupervisedEvaluator runs its inferer
        out = inferer(x, network)
        expected_logits = network(x.as_tensor())
    assert set(out) == {"logits", "cam"}
    assert torch.allclose(out["logits"], expected_logits, atol=1e-5)
    cam = out["cam"]
    assert isinstance(cam, MetaTensor) and tuple(cam.shape) == (2, 1, 64, 64)
    assert float(cam.min()) >= 0.0 and float(cam.max()) <= 1.0
    reference = GradCAM(network, "class_layers.relu", postprocessing=normalize_heatmap)(
        x.as_tensor(), class_idx=2
    )
    assert torch.allclose(cam.as_tensor(), reference, atol=1e-5)


def test_predicted_class_mode_explains_each_image_own_class(network: torch.nn.Module) -> None:
    x = torch.cat([bright_square((64, 64)), bright_square((64, 64), at=(40, 10))])
    out = GradCAMInferer(class_index=None)(x, network)
    predicted = out["logits"].argmax(1).tolist()
    for i, k in enumerate(predicted):
        one = GradCAM(network, "class_layers.relu", postprocessing=normalize_heatmap)(
            x[i : i + 1], class_idx=k
        )
        assert torch.allclose(out["cam"][i : i + 1].as_tensor(), one, atol=1e-5)


def test_the_map_follows_the_evidence_of_a_trained_toy_network() -> None:
    """A small CNN trained to tell a bright square from none puts its heat on the square."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        OrderedDict(
            conv1=torch.nn.Conv2d(1, 8, 3, padding=1),
            act1=torch.nn.ReLU(),
            conv2=torch.nn.Conv2d(8, 16, 3, stride=4, padding=1),
            act2=torch.nn.ReLU(),
            pool=torch.nn.AdaptiveMaxPool2d(1),
            flat=torch.nn.Flatten(),
            out=torch.nn.Linear(16, 2),
        )
    )
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    gen = torch.Generator().manual_seed(0)
    for _ in range(60):
        xs, ys = [], []
        for _ in range(8):
            y = int(torch.randint(0, 2, (1,), generator=gen))
            r, c = (int(v) for v in torch.randint(0, 48, (2,), generator=gen))
            xs.append(bright_square((64, 64), (r, c)) * y + 0.05 * torch.rand(1, 1, 64, 64, generator=gen))
            ys.append(y)
        loss = torch.nn.functional.cross_entropy(net(torch.cat(xs)), torch.tensor(ys))
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    x = bright_square((64, 64), (40, 8))
    out = GradCAMInferer(target_layers="act2", class_index=1)(x, net)
    assert out["logits"].argmax(1).item() == 1
    cam = out["cam"][0, 0]
    inside = cam[40:56, 8:24].mean()
    outside = torch.cat([cam[:24].flatten(), cam[:, 40:].flatten()]).mean()
    assert inside > outside + 0.2


def test_bad_arguments_fail_clearly(network: torch.nn.Module) -> None:
    with pytest.raises(ValueError, match="no layer"):
        GradCAMInferer(target_layers="features.nope")(torch.rand(1, 1, 64, 64), network)
    with pytest.raises(ValueError, match="3 classes"):
        GradCAMInferer(class_index=5)(torch.rand(1, 1, 64, 64), network)
    with pytest.raises(ValueError, match="class_index"):
        GradCAMInferer(class_index=-1)
    with pytest.raises(ValueError, match="differ"):
        GradCAMInferer(logits_key="x", cam_key="x")
