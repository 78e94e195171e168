"""FROC curve: ``monai_mammo.metrics.froc_curve_from_matches`` vs ``monai.metrics.compute_froc_curve_data``.

Both give the same points (MONAI's given one score below every candidate's, so that it keeps the lowest
score as a threshold; the script checks that they are equal); MONAI's counts ``scores >= t`` in a Python loop
over every threshold (O(n²)), ours with ``numpy.searchsorted`` (O(n log n)). The segmentation report
computes the curve once per bootstrap replicate: 5 intervals x 1,000 replicates x 2 hit rules.

Inputs: synthetic matches, ``--images`` images each with a lesion with probability 0.3 (found with
probability 0.7) and a Poisson(3) number of false positives, scores uniform in ``[0, 1)``.

Run: ``nice -n 10 python benchmarks/bench_froc.py`` (under a minute on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
from monai.metrics import compute_froc_curve_data

from monai_mammo.metrics import LesionMatch, froc_curve_from_matches


def _matches(n_images: int, seed: int = 0) -> list[LesionMatch]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_images):
        n_lesions = int(rng.random() < 0.3)
        tp = np.where(rng.random(n_lesions) < 0.7, rng.random(n_lesions), np.nan)
        out.append(LesionMatch(rng.random(rng.poisson(3)), tp, n_lesions))
    return out


def _seconds(fn, repeats: int) -> float:
    """The fastest of ``repeats`` runs (the machine is shared: the minimum is the least disturbed)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs="+", default=[200, 1000, 4000])
    args = parser.parse_args()
    print("images  scores  monai_mammo_ms  monai_ms  ratio  equal")
    for n_images in args.images:
        matches = _matches(n_images)
        curve = froc_curve_from_matches(matches)
        fp = np.concatenate([m.fp_probs for m in matches])
        tp = np.concatenate([m.tp_probs for m in matches])
        tp = tp[np.isfinite(tp)]
        below = np.r_[-np.inf, fp]
        fps, sens = compute_froc_curve_data(below, tp, curve.n_lesions, n_images)
        equal = np.array_equal(fps[::-1], curve.fps_per_image) and np.array_equal(
            sens[::-1], curve.sensitivity
        )
        ours = _seconds(partial(froc_curve_from_matches, matches), 20)
        theirs = _seconds(partial(compute_froc_curve_data, below, tp, curve.n_lesions, n_images), 3)
        print(
            f"{n_images:6d}  {len(fp) + len(tp):6d}  {ours * 1e3:14.2f}  {theirs * 1e3:8.1f}  "
            f"{theirs / ours:5.0f}  {equal}"
        )


if __name__ == "__main__":
    main()
