"""breast_sliding_window_inference: same result as MONAI inside the breast, fewer network calls."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from inferer_helpers import CountingPredictor, load_mias, tiny_unet
from monai.data import MetaTensor
from monai.inferers import sliding_window_inference

from monai_mammo.inferers import BatchBreastMask, breast_sliding_window_inference, select_breast_windows

ATOL = 1e-5

CASES = [  # roi_size, overlap, mode, sw_batch_size
    ((64, 64), 0.25, "constant", 4),
    ((64, 64), 0.5, "gaussian", 3),
    ((96, 64), 0.0, "constant", 1),
    ((48, 80), 0.7, "gaussian", 5),
    ((128, 64), 0.25, "gaussian", 2),
]


@pytest.fixture(scope="module")
def mammogram(shared_data):
    image = load_mias(shared_data, "mdb001", 256)
    return image, BatchBreastMask()(image)


def _both(inputs, mask, roi, overlap, mode, sw_batch_size, net, **kw):
    plain, breast = CountingPredictor(net), CountingPredictor(net)
    with torch.inference_mode():
        ref = sliding_window_inference(inputs, roi, sw_batch_size, plain, overlap, mode, **kw)
        out = breast_sliding_window_inference(inputs, mask, roi, sw_batch_size, breast, overlap, mode, **kw)
    return ref, out, plain, breast


@pytest.mark.parametrize("roi, overlap, mode, sw_batch_size", CASES)
def test_real_mammogram_equals_monai_inside_breast(mammogram, roi, overlap, mode, sw_batch_size):
    image, mask = mammogram
    assert 0.2 < mask.float().mean() < 0.8  # a real breast with real background around it
    ref, out, plain, breast = _both(image, mask, roi, overlap, mode, sw_batch_size, tiny_unet())
    inside = mask.expand_as(ref)
    torch.testing.assert_close(out[inside], ref[inside], atol=ATOL, rtol=0)
    assert torch.all(out[~inside] == 0)
    assert breast.windows < plain.windows
    assert breast.calls <= plain.calls
    assert not torch.isnan(out).any()


@pytest.mark.parametrize("roi, overlap, mode, sw_batch_size", CASES)
def test_random_inputs_random_masks_batch(roi, overlap, mode, sw_batch_size):
    gen = torch.Generator().manual_seed(7)
    inputs = torch.rand(2, 1, 160, 136, generator=gen)
    # a blob per image, in different places: per-image window selection
    yy, xx = torch.meshgrid(torch.arange(160), torch.arange(136), indexing="ij")
    mask = torch.stack(
        [((yy - 40) ** 2 + (xx - 30) ** 2 < 30**2), ((yy - 120) ** 2 + (xx - 100) ** 2 < 25**2)]
    )
    mask = mask[:, None]
    ref, out, plain, breast = _both(inputs, mask, roi, overlap, mode, sw_batch_size, tiny_unet(1))
    torch.testing.assert_close(out[mask.expand_as(ref)], ref[mask.expand_as(ref)], atol=ATOL, rtol=0)
    assert breast.windows < plain.windows


def test_each_image_of_batch_matches_its_own_run():
    gen = torch.Generator().manual_seed(3)
    inputs = torch.rand(3, 1, 128, 128, generator=gen)
    mask = torch.zeros(3, 1, 128, 128, dtype=torch.bool)
    mask[0, :, :40, :40] = True
    mask[1, :, 90:, 60:] = True  # image 2 has no breast at all
    net = tiny_unet(2)
    with torch.inference_mode():
        batch = breast_sliding_window_inference(inputs, mask, (48, 48), 4, net, 0.25, "gaussian")
        for b in range(3):
            single = breast_sliding_window_inference(
                inputs[b : b + 1], mask[b : b + 1], (48, 48), 1, net, 0.25, "gaussian"
            )
            torch.testing.assert_close(batch[b : b + 1], single, atol=ATOL, rtol=0)
    assert torch.all(batch[2] == 0)
    keep = select_breast_windows(mask[:, 0], [(slice(0, 48), slice(0, 48)), (slice(80, 128), slice(80, 128))])
    np.testing.assert_array_equal(keep, [[True, False], [False, True], [False, False]])


def test_fewer_calls_counted_exactly():
    # 128x128, roi 64, overlap 0.5 -> windows start at 0, 32, 64 on each axis (3x3 grid)
    inputs = torch.rand(1, 1, 128, 128)
    mask = torch.zeros(1, 1, 128, 128)
    mask[..., :10, :10] = 1  # only window (0, 0)
    counter = CountingPredictor(tiny_unet())
    with torch.inference_mode():
        breast_sliding_window_inference(inputs, mask, (64, 64), 2, counter, overlap=0.5)
    assert (counter.calls, counter.windows) == (1, 1)
    mask[..., 100:110, 10:20] = 1  # only window (64, 0)
    mask[..., 40:50, 40:50] = 1  # windows (0|32, 0|32)
    counter = CountingPredictor(tiny_unet())
    with torch.inference_mode():
        breast_sliding_window_inference(inputs, mask, (64, 64), 2, counter, overlap=0.5)
    assert (counter.calls, counter.windows) == (3, 5)  # 5 of 9 windows, packed 2 per call
    slices = [(slice(r, r + 64), slice(c, c + 64)) for r in (0, 32, 64) for c in (0, 32, 64)]
    np.testing.assert_array_equal(
        select_breast_windows(mask[:, 0] != 0, slices)[0], [1, 1, 0, 1, 1, 0, 1, 0, 0]
    )


@pytest.mark.parametrize("roi, interval", [((64, 64), (48, 48)), ((10, 7), (1, 1)), ((9, 9, 9), (1, 1, 1))])
def test_window_count_dtype_bounds_the_real_counts(roi, interval):
    """The integer type of the constant-mode count map holds the largest count the grid can give."""
    from monai.data.utils import dense_patch_slices

    from monai_mammo.inferers.window_merger import window_count_dtype

    image = tuple(3 * r + 5 for r in roi)  # the last window is shifted back: one more overlap
    counts = np.zeros(image, dtype=np.int64)
    for s in dense_patch_slices(image, roi, interval, return_slice=True):
        counts[s] += 1
    dtype = window_count_dtype(roi, interval)
    assert counts.max() <= torch.iinfo(dtype).max
    assert dtype == (torch.uint8 if len(roi) == 2 else torch.int16)


def test_constant_mode_with_very_high_overlap_equals_monai():
    """Up to 144 windows over one pixel, counted in uint8: the same result as MONAI's float count map."""
    inputs = torch.rand(1, 1, 40, 40)
    mask = torch.ones(1, 1, 40, 40)
    with torch.inference_mode():
        ref = sliding_window_inference(inputs, (12, 12), 64, tiny_unet(), 0.95, "constant")
        out = breast_sliding_window_inference(inputs, mask, (12, 12), 64, tiny_unet(), 0.95, "constant")
    torch.testing.assert_close(out, ref, atol=ATOL, rtol=0)


def test_empty_mask_calls_predictor_once_and_fills():
    inputs = torch.rand(2, 1, 100, 90)
    counter = CountingPredictor(tiny_unet(out_channels=2))
    with torch.inference_mode():
        out = breast_sliding_window_inference(
            inputs, torch.zeros(2, 1, 100, 90), (32, 32), 4, counter, cval_outside=(1.0, 0.0)
        )
    assert out.shape == (2, 2, 100, 90)
    assert counter.windows == 1
    assert torch.all(out[:, 0] == 1) and torch.all(out[:, 1] == 0)


def test_full_mask_equals_monai_everywhere(mammogram):
    image, _ = mammogram
    full = torch.ones_like(image, dtype=torch.bool)
    for mode in ("constant", "gaussian"):
        ref, out, plain, breast = _both(image, full, (64, 64), 0.25, mode, 4, tiny_unet())
        torch.testing.assert_close(out, ref, atol=ATOL, rtol=0)
        assert breast.windows == plain.windows


def test_metatensor_metadata_kept(mammogram):
    image, mask = mammogram
    affine = torch.diag(torch.tensor([0.2, 0.2, 1.0, 1.0], dtype=torch.float64))
    meta_in = MetaTensor(
        image.clone(), affine=affine, meta={"filename_or_obj": "mdb001.png", "laterality": "L"}
    )
    with torch.inference_mode():
        ref = sliding_window_inference(meta_in, (64, 64), 4, tiny_unet())
        out = breast_sliding_window_inference(meta_in, mask, (64, 64), 4, tiny_unet())
    assert isinstance(out, MetaTensor)
    assert out.meta["filename_or_obj"] == ref.meta["filename_or_obj"] == "mdb001.png"
    assert out.meta["laterality"] == "L"
    torch.testing.assert_close(out.affine, ref.affine)


def test_roi_larger_than_image_padding():
    inputs = torch.rand(1, 1, 40, 50)
    mask = torch.zeros(1, 1, 40, 50, dtype=torch.bool)
    mask[..., 5:20, 5:30] = True
    for padding_mode in ("constant", "replicate"):
        ref, out, _, _ = _both(
            inputs, mask, (64, 64), 0.25, "gaussian", 1, tiny_unet(), padding_mode=padding_mode
        )
        assert out.shape == ref.shape == (1, 1, 40, 50)
        torch.testing.assert_close(out[mask], ref[mask], atol=ATOL, rtol=0)


def test_tuple_dict_and_zoomed_outputs_match_monai():
    net = tiny_unet(4)
    inputs = torch.rand(1, 1, 128, 96)
    mask = torch.zeros(1, 1, 128, 96, dtype=torch.bool)
    mask[..., 30:100, 10:50] = True

    def multi(x):
        y = net(x)
        return {"full": y, "half": F.avg_pool2d(y, 2)}

    ref, out, _, _ = _both(inputs, mask, (32, 32), 0.5, "gaussian", 3, multi)
    assert set(out) == {"full", "half"}
    torch.testing.assert_close(out["full"][mask], ref["full"][mask], atol=ATOL, rtol=0)
    half_mask = F.interpolate(mask.float(), (64, 48), mode="nearest-exact") > 0
    # at half resolution the equality holds where the full-resolution block lies inside the breast
    interior = -F.max_pool2d(-mask.float(), 2) > 0
    torch.testing.assert_close(out["half"][interior], ref["half"][interior], atol=ATOL, rtol=0)
    assert torch.all(out["half"][~half_mask] == 0)

    ref_t, out_t, _, _ = _both(inputs, mask, (32, 32), 0.5, "constant", 2, lambda x: (net(x), -net(x)))
    assert isinstance(out_t, tuple) and len(out_t) == 2
    torch.testing.assert_close(out_t[1][mask], ref_t[1][mask], atol=ATOL, rtol=0)


def test_outside_values_with_and_without_restriction():
    inputs = torch.rand(1, 1, 96, 96)
    mask = torch.zeros(1, 1, 96, 96, dtype=torch.bool)
    mask[..., :8, :8] = True  # only the top-left 32x32 window (stride 32, no overlap) touches it

    def ones(x):
        return torch.ones(x.shape[0], 1, *x.shape[2:])

    out = breast_sliding_window_inference(inputs, mask, (32, 32), 1, ones, overlap=0.0, cval_outside=-7.0)
    assert torch.all(out[mask] == 1) and torch.all(out[~mask] == -7)
    out = breast_sliding_window_inference(
        inputs, mask, (32, 32), 1, ones, overlap=0.0, cval_outside=-7.0, restrict_to_mask=False
    )
    assert torch.all(out[..., :32, :32] == 1)  # covered by the kept window
    covered = torch.zeros_like(mask)
    covered[..., :32, :32] = True
    assert torch.all(out[~covered] == -7)  # covered by no kept window: defined, not NaN


def test_min_overlap_pixels_skips_more_and_stays_defined():
    inputs = torch.rand(1, 1, 96, 96)
    mask = torch.zeros(1, 1, 96, 96, dtype=torch.bool)
    mask[..., 30:34, 30:34] = True  # 4 windows of the 3x3 grid (roi 48, stride 24) hold all 16 pixels
    mask[..., 60:62, 60:62] = True  # 2x2 pixels in a corner of fewer windows
    lenient, strict = CountingPredictor(tiny_unet()), CountingPredictor(tiny_unet())
    with torch.inference_mode():
        breast_sliding_window_inference(inputs, mask, (48, 48), 1, lenient, overlap=0.5)
        out = breast_sliding_window_inference(
            inputs, mask, (48, 48), 1, strict, overlap=0.5, min_overlap_pixels=10
        )
    assert strict.windows < lenient.windows
    assert not torch.isnan(out).any()


def test_with_coord_passes_window_slices():
    inputs = torch.rand(2, 1, 64, 64)
    mask = torch.zeros(2, 1, 64, 64, dtype=torch.bool)
    mask[1, :, 40:, 40:] = True
    seen = []

    def predictor(x, coords):
        seen.extend(coords)
        # the windows are the inputs at those coordinates
        for window, c in zip(x, coords):
            torch.testing.assert_close(window[None], inputs[tuple(c)])
        return x

    out = breast_sliding_window_inference(inputs, mask, (32, 32), 3, predictor, overlap=0.0, with_coord=True)
    assert [c[0] for c in seen] == [slice(1, 2)]
    assert seen[0][2:] == [slice(32, 64), slice(32, 64)]
    torch.testing.assert_close(out[mask], inputs[mask])


def test_condition_windowed_like_monai_with_progress_bar():
    """``condition`` (a tensor shaped like the inputs) reaches the predictor window by window, as in MONAI."""
    gen = torch.Generator().manual_seed(5)
    inputs = torch.rand(2, 1, 100, 90, generator=gen)
    condition = torch.rand(2, 1, 100, 90, generator=gen)
    mask = torch.zeros(2, 1, 100, 90, dtype=torch.bool)
    mask[0, :, 10:60, :40] = True
    mask[1, :, 50:, 30:] = True
    net = tiny_unet(6)

    def predictor(x, condition):
        assert condition.shape == x.shape
        return net(x) + 3 * condition

    with torch.inference_mode():
        ref = sliding_window_inference(inputs, (32, 32), 3, predictor, 0.5, "gaussian", condition=condition)
        out = breast_sliding_window_inference(
            inputs, mask, (32, 32), 3, predictor, 0.5, "gaussian", progress=True, condition=condition
        )
    torch.testing.assert_close(out[mask], ref[mask], atol=ATOL, rtol=0)
    assert torch.all(out[~mask] == 0)


@pytest.mark.parametrize(
    "mask_shape, error",
    [((1, 1, 10, 64), "spatial shape"), ((3, 1, 64, 64), "batch size"), ((2, 2, 64, 64), "one channel")],
)
def test_bad_mask_raises(mask_shape, error):
    with pytest.raises(ValueError, match=error):
        breast_sliding_window_inference(
            torch.rand(2, 1, 64, 64), torch.ones(mask_shape), (32, 32), 1, lambda x: x
        )


def test_mask_shapes_broadcast():
    inputs = torch.rand(2, 1, 64, 64)
    mask = np.zeros((64, 64), dtype=np.uint8)
    mask[:20] = 1
    outs = [
        breast_sliding_window_inference(inputs, m, (32, 32), 2, lambda x: x * 2)
        for m in (mask, mask[None], mask[None, None], np.stack([mask, mask]), np.stack([mask, mask])[:, None])
    ]
    for out in outs[1:]:
        torch.testing.assert_close(out, outs[0])


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"min_overlap_pixels": 0}, "min_overlap_pixels"),
        ({"overlap": 1.0}, "overlap"),
        ({"sw_batch_size": 0}, "sw_batch_size"),
        ({"cval_outside": (0.0, 1.0, 2.0)}, "cval_outside"),
        ({"roi_size": (32, 32, 32)}, "roi_size"),
    ],
)
def test_bad_arguments_raise(kwargs, error):
    args = {"roi_size": (32, 32), "sw_batch_size": 1, **kwargs}
    mask = torch.ones(1, 1, 64, 64)
    with pytest.raises(ValueError, match=error):
        breast_sliding_window_inference(
            torch.rand(1, 1, 64, 64), mask, predictor=lambda x: torch.cat([x, x], 1), **args
        )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("where", ["all_cuda", "windows_on_cuda", "output_on_cpu"])
def test_cuda_devices(where):
    net = tiny_unet().cuda()
    inputs = torch.rand(2, 1, 160, 128)
    mask = torch.zeros(2, 1, 160, 128, dtype=torch.bool)
    mask[0, :, 20:90, :50] = True
    mask[1, :, 80:, 70:] = True
    kw = {
        "all_cuda": {},
        "windows_on_cuda": {"sw_device": "cuda", "device": "cpu"},
        "output_on_cpu": {"device": "cpu"},
    }[where]
    x = inputs if where == "windows_on_cuda" else inputs.cuda()
    with torch.inference_mode():
        ref = sliding_window_inference(x, (64, 64), 3, net, 0.25, "gaussian", **kw)
        out = breast_sliding_window_inference(x, mask, (64, 64), 3, net, 0.25, "gaussian", **kw)
    assert out.device == ref.device
    m = mask.to(ref.device)
    torch.testing.assert_close(out[m], ref[m], atol=ATOL, rtol=0)


def test_select_breast_windows_old_module_path_warns():
    """``select_breast_windows`` moved to ``inferers.breast_windows``; the old module path still gives it."""
    import monai_mammo.inferers.sliding_window as old
    from monai_mammo.inferers.breast_windows import select_breast_windows as new

    with pytest.warns(DeprecationWarning, match=r"sliding_window\.select_breast_windows .*breast_windows"):
        assert old.select_breast_windows is new
    assert new is select_breast_windows
