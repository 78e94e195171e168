"""plot_roc and plot_froc write valid PNG files atomically."""

from __future__ import annotations

import numpy as np
from PIL import Image

from monai_mammo.metrics import froc_curve, plot_froc, plot_roc


def test_plot_roc_png(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    s = rng.random(100) + 0.5 * y
    out = plot_roc(y, s, tmp_path / "sub" / "roc.png", label="DenseNet", n_boot=50, operating_points=(0.9,))
    assert out == tmp_path / "sub" / "roc.png"
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size[0] > 200 and im.size[1] > 200
        pixels = np.asarray(im.convert("L"))
    assert pixels.std() > 5  # something was drawn
    assert sorted(p.name for p in out.parent.iterdir()) == ["roc.png"]  # no temporary left


def test_plot_froc_png_overwrites(tmp_path):
    p = np.zeros((32, 32))
    p[5:8, 5:8] = 0.9
    p[20:23, 20:23] = 0.7
    curve = froc_curve([p], [{"circles": [(6, 6, 2)]}])
    target = tmp_path / "froc.png"
    target.write_bytes(b"old")
    plot_froc({"a": curve, "b": curve}, target, title="lesions")
    with Image.open(target) as im:
        assert im.format == "PNG"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["froc.png"]
