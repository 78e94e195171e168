"""FROC: hit criterion, curve points, sensitivities at 0.5/1/2/4 FP per image, MONAI agreement, CI."""

from __future__ import annotations

import numpy as np
import pytest
from monai.metrics import compute_fp_tp_probs_nd, compute_froc_curve_data, compute_froc_score
from PIL import Image
from scipy import ndimage

from monai_mammo.metrics import (
    LesionMatch,
    froc_curve,
    froc_curve_from_matches,
    froc_score,
    froc_score_with_ci,
    froc_sensitivities,
    match_lesions,
)


def _blob(p, row, col, value, radius=2):
    rr, cc = np.ogrid[: p.shape[0], : p.shape[1]]
    d2 = (rr - row) ** 2 + (cc - col) ** 2
    blob = np.where(d2 <= radius**2, value - 0.01 * np.sqrt(d2), 0.0)  # peak at the centre
    np.maximum(p, blob, out=p)


def _three_images():
    """Image 0: 2 lesions (circles), hit with 0.9 and 0.6, plus an FP at 0.8 and a duplicate hit at 0.55.
    Image 1: 1 lesion (box), missed; an FP at 0.7 just outside it. Image 2: normal, an FP at 0.65."""
    maps = [np.zeros((64, 64)) for _ in range(3)]
    _blob(maps[0], 10, 10, 0.9)
    _blob(maps[0], 40, 40, 0.6)
    _blob(maps[0], 44, 44, 0.55, radius=1)  # second candidate inside lesion 2 (radius 6)
    _blob(maps[0], 10, 50, 0.8)
    _blob(maps[1], 30, 12, 0.7)  # its peak (30, 12) lies just right of the box's last column (11)
    _blob(maps[2], 50, 20, 0.65)
    truths = [{"circles": [(10, 10, 4), (41, 41, 6)]}, {"boxes": [(20, 0, 40, 12)]}, {}]
    return maps, truths


def test_hits_false_positives_and_duplicates():
    maps, truths = _three_images()
    m0 = match_lesions(maps[0], circles=truths[0]["circles"])
    np.testing.assert_allclose(m0.tp_probs, [0.9, 0.6])
    np.testing.assert_allclose(m0.fp_probs, [0.8])  # the duplicate at 0.55 is neither TP nor FP
    assert sorted(c["lesion"] for c in m0.candidates) == [0, 1, 2, 2]
    m1 = match_lesions(maps[1], boxes=truths[1]["boxes"])
    assert m1.n_lesions == 1 and np.isnan(m1.tp_probs[0]) and m1.fp_probs.tolist() == [pytest.approx(0.7)]
    m2 = match_lesions(maps[2])
    assert m2.n_lesions == 0 and m2.tp_probs.size == 0 and len(m2.fp_probs) == 1


def test_curve_points_and_sensitivities():
    maps, truths = _three_images()
    curve = froc_curve(maps, truths)
    assert (curve.n_images, curve.n_lesions) == (3, 3)
    # thresholds 0.9 (TP), 0.8 (FP), 0.7 (FP), 0.65 (FP), 0.6 (TP)
    np.testing.assert_allclose(curve.thresholds[1:], [0.9, 0.8, 0.7, 0.65, 0.6])
    np.testing.assert_allclose(curve.fps_per_image, [0, 0, 1 / 3, 2 / 3, 1, 1])
    np.testing.assert_allclose(curve.sensitivity, [0, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 2 / 3])
    sens = froc_sensitivities(curve)
    assert sens == pytest.approx({0.5: 1 / 3, 1.0: 2 / 3, 2.0: 2 / 3, 4.0: 2 / 3})
    assert froc_score(curve) == pytest.approx((1 / 3 + 3 * 2 / 3) / 4)
    assert curve.sensitivity_at(0.0) == pytest.approx(1 / 3)
    # linear: at 0.5 FP/img, halfway between (1/3, 1/3) and (2/3, 1/3): still 1/3
    assert froc_sensitivities(curve, (0.5, 1.0), rule="linear") == pytest.approx({0.5: 1 / 3, 1.0: 2 / 3})


def test_agrees_with_monai_camelyon_helpers():
    maps, truths = _three_images()
    matches = [
        match_lesions(maps[0], circles=truths[0]["circles"]),
        match_lesions(maps[1], boxes=truths[1]["boxes"]),
        match_lesions(maps[2]),
    ]
    # matching: same FP and TP scores as compute_fp_tp_probs_nd (float32 there)
    from monai_mammo.metrics import lesion_label_map

    label_map = lesion_label_map((64, 64), circles=truths[0]["circles"])
    probs = np.asarray([c["max_prob"] for c in matches[0].candidates])
    coords = np.asarray([[c["peak_row"], c["peak_col"]] for c in matches[0].candidates])
    fp, tp, n = compute_fp_tp_probs_nd(probs, coords, label_map)
    np.testing.assert_allclose(fp, matches[0].fp_probs)
    np.testing.assert_allclose(tp, matches[0].tp_probs, rtol=1e-6)
    # curve: a lesion is missed here, so MONAI's curve (which skips the lowest score) has the same points
    curve = froc_curve_from_matches(matches)
    all_fp = np.concatenate([m.fp_probs for m in matches])
    all_tp = np.nan_to_num(np.concatenate([m.tp_probs for m in matches]), nan=0.0)
    fps, sens = compute_froc_curve_data(all_fp, all_tp, curve.n_lesions, curve.n_images)
    ours = {(round(a, 9), round(b, 9)) for a, b in zip(curve.fps_per_image, curve.sensitivity)}
    assert {(round(a, 9), round(b, 9)) for a, b in zip(fps, sens)} <= ours
    assert froc_score(curve, (0.25, 0.5, 1, 2, 4, 8), rule="linear") == pytest.approx(
        compute_froc_score(fps, sens), abs=1e-9
    )


def test_hand_made_case_equals_monai_functions():
    """Two images, nothing missed, an FP tied with a TP at 0.75: matching, points, scores are MONAI's."""
    truth = np.zeros((16, 16), np.int32)
    truth[2:6, 2:6], truth[9:13, 9:13] = 1, 2
    prob = np.zeros((16, 16), np.float32)
    prob[3, 3], prob[10, 10], prob[11, 11], prob[14, 1] = 0.75, 0.5, 0.25, 0.75  # [11, 11]: a second hit on 2
    m0 = match_lesions(prob, truth, threshold=0.1)
    peaks = np.asarray([[c["peak_row"], c["peak_col"]] for c in m0.candidates])
    fp, tp, n = compute_fp_tp_probs_nd(np.asarray([c["max_prob"] for c in m0.candidates]), peaks, truth)
    np.testing.assert_array_equal(m0.fp_probs, fp)  # float32 scores: exactly MONAI's
    np.testing.assert_array_equal(m0.tp_probs, tp)
    assert m0.n_lesions == n == 2
    m1 = LesionMatch(fp_probs=np.asarray([0.5, 0.125]), tp_probs=np.asarray([0.875]), n_lesions=1)
    curve = froc_curve_from_matches([m0, m1])
    # MONAI's curve skips the lowest score: one score below all of them keeps it; its order is ours reversed
    fps, sens = compute_froc_curve_data(np.r_[0.0, m0.fp_probs, m1.fp_probs], np.r_[tp, 0.875], 3, 2)
    np.testing.assert_array_equal(curve.fps_per_image, fps[::-1])
    np.testing.assert_array_equal(curve.sensitivity, sens[::-1])
    # hand-computed: thresholds 0.875 (TP), 0.75 (TP + FP), 0.5 (TP + FP), 0.125 (FP)
    np.testing.assert_array_equal(curve.thresholds, [np.inf, 0.875, 0.75, 0.5, 0.125])
    np.testing.assert_array_equal(curve.fps_per_image, [0, 0, 0.5, 1, 1.5])
    np.testing.assert_array_equal(curve.sensitivity, [0, 1 / 3, 2 / 3, 1, 1])
    rates = (0.25, 0.5, 1, 2, 4, 8)
    assert froc_score(curve, rates, rule="linear") == pytest.approx(
        compute_froc_score(fps, sens, rates), abs=1e-12
    )
    assert froc_sensitivities(curve, (0.25,), rule="linear") == pytest.approx({0.25: 0.5}, abs=1e-12)
    assert froc_sensitivities(curve, (0.25, 1.5)) == {0.25: 1 / 3, 1.5: 1.0}  # step: points that exist


def test_lowest_score_kept_when_nothing_missed():
    # one lesion hit at 0.6 and one FP at 0.9: at 1 FP/image the lesion is found
    p = np.zeros((32, 32))
    _blob(p, 8, 8, 0.6)
    _blob(p, 24, 24, 0.9)
    curve = froc_curve([p], [{"circles": [(8, 8, 3)]}])
    assert curve.sensitivity_at(1.0) == 1.0 and curve.sensitivity_at(0.5) == 0.0


def test_real_lesion_masks_perfect_detector(shared_data):
    """CDD-CESM lesion masks; the 'detector' peaks inside each lesion and adds one FP per image."""
    maps, truths, n_lesions = [], [], 0
    for path in sorted((shared_data / "cdd_cesm" / "masks").glob("*.png")):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        lesion = (rgb[..., 0] > 128) | (rgb[..., 1] > 128)
        n_lesions += ndimage.label(lesion, structure=np.ones((3, 3)))[1]
        depth = ndimage.distance_transform_edt(lesion)
        prob = np.where(lesion, 0.8 + 0.1 * depth / max(depth.max(), 1.0), 0.0)
        far = np.unravel_index(np.argmax(ndimage.distance_transform_edt(~lesion)), lesion.shape)
        _blob(prob, far[0], far[1], 0.6)
        maps.append(prob)
        truths.append(lesion)
    curve = froc_curve(maps, truths)
    assert curve.n_lesions == n_lesions and curve.n_images == len(maps)
    assert froc_sensitivities(curve) == {0.5: 1.0, 1.0: 1.0, 2.0: 1.0, 4.0: 1.0}
    assert curve.fps_per_image[-1] == 1.0
    # shifting the detector off the lesions turns every hit into a miss plus a false positive
    shifted = froc_curve([np.roll(m, 200, axis=1) for m in maps], truths)
    assert shifted.sensitivity_at(4.0) < 0.5


def test_score_with_ci_over_images():
    rng = np.random.default_rng(0)
    matches = []
    for _ in range(40):
        p = np.zeros((48, 48))
        hit = rng.random() < 0.7
        _blob(p, 12, 12, 0.9 if hit else 0.0)
        _blob(p, 36, 36, rng.uniform(0.5, 0.95))
        matches.append(match_lesions(p, circles=[(12, 12, 3)]))
    point, low, high = froc_score_with_ci(matches, n_boot=200)
    assert point == pytest.approx(froc_score(froc_curve_from_matches(matches)))
    assert low <= point <= high and high - low > 0.05


def test_bad_input():
    with pytest.raises(ValueError, match="threshold"):
        match_lesions(np.zeros((8, 8)), threshold=0.0)
    with pytest.raises(ValueError, match="at least one ground-truth lesion"):
        froc_curve([np.zeros((8, 8))], [np.zeros((8, 8))])
    with pytest.raises(ValueError, match="ground truths"):
        froc_curve([np.zeros((8, 8))], [])
    with pytest.raises(ValueError, match="'mask'"):
        froc_curve([np.zeros((8, 8))], [{"polygons": []}])


def _rect(p, r0, c0, r1, c1, value):
    p[r0:r1, c0:c1] = np.maximum(p[r0:r1, c0:c1], value)


@pytest.mark.parametrize(
    ("candidate", "hit"),
    [
        ((22, 2, 30, 8), True),  # centre (25.5, 4.5) inside the box [20, 40) x [0, 12)
        ((14, 0, 24, 4), False),  # centre (18.5, 1.5) above the box, box centre not covered
        ((41, 0, 50, 12), False),  # below the box, centre outside, box centre not covered
        ((10, 20, 50, 40), False),  # beside the box
        ((5, 0, 60, 30), False),  # centre (32, 14.5) outside the box, covers its centre, but 6.9x its area
        ((14, 0, 44, 14), True),  # centre (28.5, 6.5) in the box, covering it, 1.75x its area
        ((28, 4, 58, 18), True),  # centre (42.5, 10.5) outside the box, covers its centre, 1.75x its area
    ],
    ids=["centre-in-box", "centre-near", "below", "beside", "too-large", "around", "covers-box-centre"],
)
def test_box_hit_rule(candidate, hit):
    """``hit_rule="box"``: centre of the candidate in the box, or the box centre in the candidate."""
    p = np.zeros((64, 64))
    _rect(p, *candidate, 0.8)
    box = (20, 0, 40, 12)  # box centre pixel (29, 5)
    r0, c0, r1, c1 = candidate
    centre_in = 20 <= (r0 + r1 - 1) / 2 < 40 and 0 <= (c0 + c1 - 1) / 2 < 12
    covers = r0 <= 29 < r1 and c0 <= 5 < c1
    small_enough = (r1 - r0) * (c1 - c0) <= 4 * 20 * 12
    assert hit == ((centre_in or covers) and small_enough)
    m = match_lesions(p, boxes=[box], hit_rule="box")
    assert (m.tp_probs.tolist() == [pytest.approx(0.8)]) is hit
    assert len(m.fp_probs) == (0 if hit else 1)


def test_box_rule_counts_one_candidate_for_every_lesion_it_hits():
    p = np.zeros((64, 64))
    _rect(p, 0, 0, 20, 20, 0.9)  # one candidate covering both box centres, 4x each box
    m = match_lesions(p, boxes=[(0, 0, 10, 10), (10, 10, 20, 20)], hit_rule="box")
    np.testing.assert_allclose(m.tp_probs, [0.9, 0.9])
    assert m.fp_probs.size == 0 and [c["lesion"] for c in m.candidates] == [1]


def test_box_rule_finds_loose_box_lesions_the_peak_rule_misses():
    """A candidate whose peak is outside an ellipse drawn in a loose box but whose centre lies in the box."""
    p = np.zeros((64, 64))
    _rect(p, 20, 0, 22, 2, 0.7)  # a corner of the box (20, 0, 40, 12): outside the inscribed ellipse
    yy, xx = np.ogrid[:64, :64]
    ellipse = ((yy - 29.5) / 10) ** 2 + ((xx - 5.5) / 6) ** 2 <= 1
    assert not ellipse[20:22, 0:2].any()
    assert np.isnan(match_lesions(p, lesion_mask=ellipse).tp_probs[0])
    assert match_lesions(p, lesion_mask=ellipse, hit_rule="box").tp_probs[0] == pytest.approx(0.7)


def test_box_rule_ignores_a_candidate_spread_over_the_image():
    """One component over the whole breast covers every box centre: it detects nothing."""
    p = np.full((64, 64), 0.3)
    m = match_lesions(p, boxes=[(20, 0, 40, 12)], threshold=0.1, hit_rule="box")
    assert np.isnan(m.tp_probs[0]) and m.fp_probs.tolist() == [pytest.approx(0.3)]
    loose = match_lesions(p, boxes=[(20, 0, 40, 12)], threshold=0.1, hit_rule="box", max_area_ratio=20)
    assert loose.tp_probs.tolist() == [pytest.approx(0.3)]


def test_unknown_hit_rule():
    with pytest.raises(ValueError, match="hit_rule"):
        match_lesions(np.zeros((8, 8)), hit_rule="iou")
