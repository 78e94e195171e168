"""average_state_dicts, average_weight_files, `monai-mammo average-weights`: mean of fine-tuned copies."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from monai.networks.nets import UNet

from monai_mammo.cli import main
from monai_mammo.networks import average_state_dicts, average_weight_files


def small_unet(seed: int) -> UNet:
    torch.manual_seed(seed)
    return UNet(spatial_dims=2, in_channels=1, out_channels=1, channels=(4, 8), strides=(2,), norm="batch")


def trained_copy(seed: int) -> UNet:
    """A copy of the seed-0 network after one training step on seed-dependent data (BatchNorm stats move)."""
    net = small_unet(0)
    torch.manual_seed(seed)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    net.train()
    loss = net(torch.randn(2, 1, 16, 16)).square().mean()
    loss.backward()
    optimizer.step()
    return net


def test_mean_of_entries_and_counters_from_the_first() -> None:
    states = [trained_copy(seed).state_dict() for seed in (1, 2, 3)]
    states[1] = {**states[1], "model.1.submodule.adn.N.num_batches_tracked": torch.tensor(7)}
    mean = average_state_dicts(states)
    for key, value in mean.items():
        if value.is_floating_point():
            expected = (states[0][key] + states[1][key] + states[2][key]) / 3
            torch.testing.assert_close(value, expected, rtol=1e-6, atol=1e-7)
            assert value.dtype == states[0][key].dtype
        else:
            assert torch.equal(value, states[0][key])
    # the mean loads into the architecture and changes its output from every copy's
    net = small_unet(5)
    net.load_state_dict(mean)
    assert not torch.equal(mean["model.0.conv.weight"], states[0]["model.0.conv.weight"])


def test_copies_of_the_same_weights_average_to_them() -> None:
    state = trained_copy(1).state_dict()
    mean = average_state_dicts([state, {k: v.clone() for k, v in state.items()}])
    assert all(torch.allclose(mean[k].double(), state[k].double(), rtol=0, atol=1e-7) for k in state)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: {k: v for k, v in s.items() if not k.endswith("bias")}, "other keys than state 1"),
        (lambda s: {**s, "model.0.conv.weight": torch.zeros(1)}, "state 2: 'model.0.conv.weight'"),
        (lambda s: {k: v.double() if v.is_floating_point() else v for k, v in s.items()}, "torch.float64"),
    ],
)
def test_mismatched_states_name_what_differs(change, message: str) -> None:
    state = small_unet(0).state_dict()
    with pytest.raises(ValueError, match=message):
        average_state_dicts([state, change(state)])
    with pytest.raises(ValueError, match="at least two"):
        average_state_dicts([state])


def test_files_and_training_checkpoints_average_to_a_bare_state_dict(tmp_path: Path) -> None:
    nets = [trained_copy(seed) for seed in (1, 2)]
    torch.save(nets[0].state_dict(), tmp_path / "a.pt")
    torch.save({"network": nets[1].state_dict(), "optimizer": {"lr": 0.1}}, tmp_path / "b_checkpoint.pt")
    torch.save({"network": nets[0].state_dict()}, tmp_path / "a_checkpoint.pt")
    out = average_weight_files(
        [tmp_path / "a_checkpoint.pt", tmp_path / "b_checkpoint.pt"],
        tmp_path / "m" / "soup.pt",
        key="network",
    )
    loaded = torch.load(out, weights_only=True)
    expected = average_state_dicts([nets[0].state_dict(), nets[1].state_dict()])
    assert set(loaded) == set(expected)
    assert all(torch.equal(loaded[k], expected[k]) for k in expected)
    # a checkpoint read without its key, a key a bare file lacks, a file that is no weights file
    with pytest.raises(ValueError, match="key='network'"):
        average_weight_files([tmp_path / "a.pt", tmp_path / "b_checkpoint.pt"], tmp_path / "x.pt")
    with pytest.raises(ValueError, match="no entry 'network'"):
        average_weight_files(
            [tmp_path / "a.pt", tmp_path / "b_checkpoint.pt"], tmp_path / "x.pt", key="network"
        )
    (tmp_path / "broken.pt").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable PyTorch weights file"):
        average_weight_files([tmp_path / "a.pt", tmp_path / "broken.pt"], tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


def test_cli_writes_the_mean_and_exits_2_on_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for seed in (1, 2):
        torch.save({"network": trained_copy(seed).state_dict()}, tmp_path / f"c{seed}.pt")
    inputs = [str(tmp_path / "c1.pt"), str(tmp_path / "c2.pt")]
    assert main(["average-weights", str(tmp_path / "model.pt"), *inputs, "--key", "network"]) == 0
    assert "mean of 2 weight files" in capsys.readouterr().out
    small_unet(0).load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True))
    assert main(["average-weights", str(tmp_path / "other.pt"), inputs[0], "--key", "network"]) == 2
    assert "at least two" in capsys.readouterr().err
    assert not (tmp_path / "other.pt").exists()
