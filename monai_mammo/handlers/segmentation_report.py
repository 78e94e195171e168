"""``SegmentationReport``: Dice with a bootstrap CI and FROC of a lesion segmentation evaluation run."""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from monai.data import MetaTensor, decollate_batch
from monai.utils import ensure_tuple

from monai_mammo.handlers.per_image import PerImageHandler
from monai_mammo.io import atomic_write_bytes
from monai_mammo.metrics import (
    DEFAULT_FP_RATES,
    DEFAULT_MIN_AREA_MM2,
    DEFAULT_MIN_AREA_PX,
    HIT_RULES,
    FROCCurve,
    LesionMatch,
    bootstrap_ci,
    dice_per_image,
    froc_curve_from_matches,
    froc_score_with_ci,
    froc_sensitivities,
    match_lesions,
    min_candidate_area_px,
    pixel_spacing_of,
    plot_froc,
    roc_auc_with_ci,
)
from monai_mammo.utils.json_text import strict_json_text

__all__ = ["SegmentationReport"]

PER_IMAGE_COLUMNS = (
    "name",
    "patient_id",
    "dice",
    "has_lesion",
    "n_lesions",
    "n_detected",
    "n_false_positives",
    "max_prob",
)


def _finite_mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def _ci(values: np.ndarray, groups: Sequence[Any] | None, n_boot: int, seed: int) -> dict[str, Any]:
    """Mean of the finite values with a percentile bootstrap 95% CI (NaN interval for fewer than 2 values)."""
    finite = np.isfinite(values)
    n = int(finite.sum())
    if n < 2:
        return {"mean": _finite_mean(values), "ci95": [math.nan, math.nan], "n": n}
    kept_groups = None if groups is None else np.asarray(groups, dtype=object)[finite]
    ci = bootstrap_ci(_finite_mean, values[finite], n_boot=n_boot, seed=seed, groups=kept_groups)
    return {"mean": ci.point, "ci95": [ci.low, ci.high], "n": n}


class SegmentationReport(PerImageHandler):
    """Collect, per image, the Dice and the lesion matches of an evaluator; report and write them at the end.

    For every image of every iteration it reads the probability map (``prob_key``) and the ground-truth
    mask (``label_key``, a binary mask: circle and box ground truths are rasterised into masks by the data
    set importers) and computes

    - the Dice of ``prob >= threshold`` (:func:`monai_mammo.metrics.dice_per_image`; on an image without
      lesion it is 1 for an empty prediction and 0 otherwise);
    - the lesion candidates of ``prob >= candidate_threshold`` matched to the ground-truth lesions
      (:func:`monai_mammo.metrics.match_lesions`, under each of ``hit_rules``: ``"peak"``, a candidate's peak
      inside a lesion detects it; ``"box"``, for loose box annotations, the candidate's centre inside the
      lesion's bounding box or the box centre inside the candidate). Candidates
      below the minimum lesion size are left out, as :class:`SegmentationWriter` leaves them out of
      ``lesions.csv``: ``min_area_mm2`` when the pixel spacing is known (the spacing of the evaluated map, so
      a resized image's larger pixels count; :func:`monai_mammo.metrics.pixel_spacing_of`), else
      ``min_area_px`` pixels of the evaluated map (the working image).

    When the run completes it writes into ``output_dir``, each file atomically: ``metrics.json`` (mean Dice
    over the images with a lesion and over all images, each with a percentile bootstrap 95% CI resampling
    patients when ``group_key`` is given; ``froc``: FROC sensitivity at ``fp_rates`` false positives per
    image, each with a 95% CI, and their mean with a 95% CI, under the first hit rule; ``froc_by_hit_rule``:
    the same under every rule; ``image_auc``: when both kinds of image are present, the AUC with which the
    image's maximum probability tells images with a lesion from images without one, with a 95% CI),
    ``metrics_per_image.csv`` (first rule, and each image's maximum probability), ``froc.csv`` (the curve) and
    ``froc.png`` (every rule); the summary is also logged and kept in :attr:`results`.

    Args:
        output_dir: the folder of the report files.
        prob_key: the key of the lesion probability map in the engine's output.
        label_key: the key of the ground-truth mask.
        threshold: the probability at or above which a pixel is lesion (for the Dice).
        candidate_threshold: the lowest score of a lesion candidate (the FROC curve starts there).
        min_area_mm2: the smallest candidate, in mm², when the pixel spacing is known (``None``: pixels).
        min_area_px: the smallest candidate when the spacing is unknown, in pixels of the evaluated map.
        fp_rates: false positives per image at which the sensitivity is reported.
        hit_rules: the hit criteria of the FROC analysis (:data:`monai_mammo.metrics.HIT_RULES`); the first
            one is the main one.
        group_key: a key of the batch holding the patient id, to bootstrap by patient (``None``: by image).
        n_boot: bootstrap replicates.
        seed: bootstrap seed.
        output_transform: maps ``engine.state.output`` to a list of per-image dictionaries (default: the
            decollated output itself).
        name: logger name (default: the engine's logger).
    """

    def __init__(
        self,
        output_dir: str | os.PathLike[str],
        prob_key: str = "prob",
        label_key: str = "label",
        threshold: float = 0.5,
        candidate_threshold: float = 0.1,
        min_area_mm2: float | None = DEFAULT_MIN_AREA_MM2,
        min_area_px: float = DEFAULT_MIN_AREA_PX,
        fp_rates: Sequence[float] = DEFAULT_FP_RATES,
        hit_rules: Sequence[str] = ("peak",),
        group_key: str | None = "patient_id",
        n_boot: int = 1000,
        seed: int = 0,
        output_transform: Callable[[Any], Any] | None = None,
        name: str | None = None,
    ) -> None:
        if not 0.0 < float(candidate_threshold) <= float(threshold) <= 1.0:
            raise ValueError(
                f"need 0 < candidate_threshold <= threshold <= 1, got {candidate_threshold} and {threshold}."
            )
        self.output_dir = Path(output_dir)
        self.prob_key = prob_key
        self.label_key = label_key
        self.threshold = float(threshold)
        self.candidate_threshold = float(candidate_threshold)
        min_candidate_area_px((1, 1), None, min_area_mm2, min_area_px)  # checks the arguments
        self.min_area_mm2 = None if min_area_mm2 is None else float(min_area_mm2)
        self.min_area_px = float(min_area_px)
        self.fp_rates = tuple(float(r) for r in fp_rates)
        self.hit_rules = tuple(str(r) for r in ensure_tuple(hit_rules))
        unknown = [r for r in self.hit_rules if r not in HIT_RULES]
        if not self.hit_rules or unknown:
            raise ValueError(f"hit_rules must be a non-empty list of {HIT_RULES}, got {list(hit_rules)}.")
        self.group_key = group_key
        self.n_boot = int(n_boot)
        self.seed = int(seed)
        super().__init__(output_transform=output_transform, name=name)
        self.rows: list[dict[str, Any]] = []
        self.matches_by_rule: dict[str, list[LesionMatch]] = {r: [] for r in self.hit_rules}
        self.results: dict[str, Any] = {}

    @property
    def matches(self) -> list[LesionMatch]:
        """The lesion matches of every image so far under the first hit rule."""
        return self.matches_by_rule[self.hit_rules[0]]

    def _reset(self, engine: Any = None) -> None:
        self.rows, self.results = [], {}
        self.matches_by_rule = {r: [] for r in self.hit_rules}

    def _completed(self, engine: Any = None) -> None:
        self.report(engine)

    def __call__(self, engine: Any) -> None:
        """Score the images of the current iteration.

        Raises:
            KeyError: when an output lacks ``prob_key`` or ``label_key``.
        """
        batch = engine.state.batch
        batch_items = (
            batch if isinstance(batch, list) else decollate_batch(batch) if batch is not None else []
        )
        for i, item in enumerate(self._items(engine.state.output)):
            for key in (self.prob_key, self.label_key):
                if key not in item:
                    raise KeyError(f"SegmentationReport: the engine output has no {key!r} key.")
            prob, label = item[self.prob_key], item[self.label_key]
            meta = prob.meta if isinstance(prob, MetaTensor) else {}
            name = str(meta.get("filename_or_obj", f"image_{len(self.rows)}"))
            group = None
            if self.group_key is not None:
                source = item if self.group_key in item else (batch_items[i] if i < len(batch_items) else {})
                group = source.get(self.group_key) if isinstance(source, dict) else None
            truth = np.asarray(label.detach().cpu() if hasattr(label, "detach") else label) >= 0.5
            p = np.asarray(prob.detach().cpu() if hasattr(prob, "detach") else prob, dtype=np.float32)
            dice = float(dice_per_image(p[None], truth[None].astype(np.float32), threshold=self.threshold)[0])
            min_area = min_candidate_area_px(
                p.shape[-2:], pixel_spacing_of(prob), self.min_area_mm2, self.min_area_px
            )
            for rule in self.hit_rules:
                self.matches_by_rule[rule].append(
                    match_lesions(
                        p,
                        lesion_mask=truth,
                        threshold=self.candidate_threshold,
                        min_area_px=math.ceil(min_area),
                        hit_rule=rule,
                    )
                )
            match = self.matches[-1]
            self.rows.append(
                {
                    "name": name,
                    "patient_id": "" if group is None else str(group),
                    "dice": dice,
                    "has_lesion": bool(truth.any()),
                    "n_lesions": match.n_lesions,
                    "n_detected": int(np.isfinite(match.tp_probs).sum()),
                    "n_false_positives": len(match.fp_probs),
                    "max_prob": float(p.max()) if p.size else math.nan,
                }
            )

    def _groups(self) -> list[str] | None:
        ids = [r["patient_id"] for r in self.rows]
        return ids if self.group_key is not None and all(ids) else None

    def _image_auc(self, lesion: np.ndarray, groups: Sequence[str] | None) -> dict[str, Any] | None:
        """AUC of the maximum probability, images with a lesion against those without (``None``: one kind)."""
        if lesion.all() or not lesion.any():
            return None
        scores = np.asarray([r["max_prob"] for r in self.rows], dtype=np.float64)
        ci = roc_auc_with_ci(lesion, scores, n_boot=self.n_boot, seed=self.seed, groups=groups)
        return {
            "score": "max_prob",
            "auc": ci.point,
            "ci95": [ci.low, ci.high],
            "n_with_lesion": int(lesion.sum()),
            "n_without": int((~lesion).sum()),
        }

    def report(self, engine: Any = None) -> dict[str, Any]:
        """Compute the summary, write the report files and log it.

        Args:
            engine: unused (Ignite passes the engine).

        Returns:
            The summary (also in :attr:`results`).
        """
        dice = np.asarray([r["dice"] for r in self.rows], dtype=np.float64)
        lesion = np.asarray([r["has_lesion"] for r in self.rows], dtype=bool)
        groups = self._groups()
        lesion_groups = None if groups is None else [g for g, keep in zip(groups, lesion) if keep]
        results: dict[str, Any] = {
            "n_images": len(self.rows),
            "n_images_with_lesion": int(lesion.sum()),
            "n_lesions": int(sum(m.n_lesions for m in self.matches)),
            "threshold": self.threshold,
            "bootstrap": {"n_boot": self.n_boot, "seed": self.seed, "by": "patient" if groups else "image"},
            "dice_images_with_lesion": _ci(dice[lesion], lesion_groups, self.n_boot, self.seed),
            "dice_all_images": _ci(dice, groups, self.n_boot, self.seed),
        }
        curves: dict[str, FROCCurve] = {}
        by_rule: dict[str, Any] = {}
        for rule, matches in self.matches_by_rule.items():
            if results["n_lesions"] == 0:
                by_rule[rule] = None
                continue
            curves[rule] = froc_curve_from_matches(matches)
            sens = froc_sensitivities(curves[rule], self.fp_rates)
            score = froc_score_with_ci(
                matches, self.fp_rates, n_boot=self.n_boot, seed=self.seed, groups=groups
            )
            at_rate = {
                rate: froc_score_with_ci(matches, (rate,), n_boot=self.n_boot, seed=self.seed, groups=groups)
                for rate in self.fp_rates
            }
            by_rule[rule] = {
                "hit_rule": rule,
                "candidate_threshold": self.candidate_threshold,
                "min_area_mm2": self.min_area_mm2,
                "min_area_px": self.min_area_px,
                "sensitivity_at_fp_per_image": {f"{r:g}": s for r, s in sens.items()},
                "sensitivity_ci95": {f"{r:g}": [ci.low, ci.high] for r, ci in at_rate.items()},
                "mean_sensitivity": {"mean": score.point, "ci95": [score.low, score.high]},
            }
        results["froc"] = by_rule[self.hit_rules[0]]
        results["froc_by_hit_rule"] = by_rule
        results["image_auc"] = self._image_auc(lesion, groups)
        self.results = results
        self.write(curves)
        d = results["dice_images_with_lesion"]
        low, high = d["ci95"]
        message = f"Dice (images with a lesion, n={d['n']}): {d['mean']:.3f} [95% CI {low:.3f}, {high:.3f}]"
        for rule, froc in by_rule.items():
            if froc is not None:
                sens_text = ", ".join(f"{v:.2f}@{k}" for k, v in froc["sensitivity_at_fp_per_image"].items())
                message += f"; FROC ({rule} hits) sensitivity at FP/image: {sens_text}"
        if results["image_auc"] is not None:
            message += f"; image AUC (maximum probability, lesion vs none): {results['image_auc']['auc']:.3f}"
        self.logger.info(message)
        return results

    def write(self, curves: Mapping[str, FROCCurve] | None = None) -> None:
        """Write ``metrics.json`` and ``metrics_per_image.csv`` (and ``froc.csv``, ``froc.png`` for curves).

        Args:
            curves: the FROC curve of each hit rule (none when there was no lesion); ``froc.csv`` holds the
                first rule's, ``froc.png`` shows all of them.
        """
        text = strict_json_text(self.results, default=float)
        atomic_write_bytes(self.output_dir / "metrics.json", (text + "\n").encode("utf-8"))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(PER_IMAGE_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_bytes(self.output_dir / "metrics_per_image.csv", buffer.getvalue().encode("utf-8"))
        if not curves:
            return
        curve = curves[self.hit_rules[0]]
        lines = ["threshold,fps_per_image,sensitivity"]
        lines += [f"{t},{f},{s}" for t, f, s in zip(curve.thresholds, curve.fps_per_image, curve.sensitivity)]
        atomic_write_bytes(self.output_dir / "froc.csv", ("\n".join(lines) + "\n").encode("utf-8"))
        named = {f"{rule} hits": c for rule, c in curves.items()}
        plot_froc(
            named, self.output_dir / "froc.png", title="FROC (lesion candidates)", fp_rates=self.fp_rates
        )
