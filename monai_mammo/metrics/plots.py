"""ROC and FROC plots written as PNG files (matplotlib, Agg canvas, atomic write)."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from monai.utils import optional_import

from monai_mammo.io import atomic_write_bytes
from monai_mammo.metrics.classification import roc_auc, roc_auc_with_ci, roc_curve, sensitivity_at_specificity
from monai_mammo.metrics.froc import DEFAULT_FP_RATES, FROCCurve, froc_sensitivities

Figure, _has_mpl = optional_import("matplotlib.figure", name="Figure")
FigureCanvasAgg, _ = optional_import("matplotlib.backends.backend_agg", name="FigureCanvasAgg")

__all__ = ["plot_froc", "plot_roc"]


def _save_atomic(fig: Any, filename: str | os.PathLike, dpi: int) -> Path:
    """Render ``fig`` as PNG bytes and write them with :func:`monai_mammo.io.atomic_write_bytes`."""
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return atomic_write_bytes(filename, buffer.getvalue())


def _new_figure(size: tuple[float, float]) -> Any:
    if not _has_mpl:
        raise ImportError("plotting needs matplotlib: pip install matplotlib")
    return Figure(figsize=size)


def plot_roc(
    y_true: Any,
    y_score: Any,
    filename: str | os.PathLike,
    label: str = "model",
    title: str = "ROC",
    n_boot: int = 0,
    seed: int | None = 0,
    operating_points: Sequence[float] = (),
    dpi: int = 120,
) -> Path:
    """Plot a ROC curve, with its AUC (and a bootstrap 95% CI with ``n_boot > 0``) in the legend.

    Args:
        y_true: 0/1 labels ``(N,)``.
        y_score: scores ``(N,)``.
        filename: the PNG to write (parent folders are created; written atomically).
        label: the curve's name in the legend.
        title: the plot title.
        n_boot: bootstrap replicates for the AUC's confidence interval (0: none).
        seed: bootstrap seed.
        operating_points: specificities at which to mark the ``"step"`` sensitivity.
        dpi: resolution.

    Returns:
        The path written.
    """
    fpr, tpr, _ = roc_curve(y_true, y_score)
    fig = _new_figure((4.5, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    if n_boot > 0:
        auc, low, high = roc_auc_with_ci(y_true, y_score, n_boot=n_boot, seed=seed)
        text = f"{label} (AUC {auc:.3f} [{low:.3f}, {high:.3f}])"
    else:
        auc = roc_auc(y_true, y_score)
        text = f"{label} (AUC {auc:.3f})"
    ax.plot(fpr, tpr, label=text)  # straight segments: ties between classes are diagonals
    for spec in operating_points:
        sens = sensitivity_at_specificity(y_true, y_score, spec)
        ax.plot([1 - spec], [sens], "o", label=f"sens {sens:.2f} @ spec {spec:.2f}")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", linewidth=1)
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="1 - specificity", ylabel="sensitivity", title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return _save_atomic(fig, filename, dpi)


def plot_froc(
    curves: FROCCurve | Mapping[str, FROCCurve],
    filename: str | os.PathLike,
    title: str = "FROC",
    fp_rates: Sequence[float] = DEFAULT_FP_RATES,
    max_fp: float | None = None,
    dpi: int = 120,
) -> Path:
    """Plot one or several FROC curves, marking the ``"step"`` sensitivity at ``fp_rates``.

    Args:
        curves: a :class:`FROCCurve`, or ``{name: curve}``.
        filename: the PNG to write (parent folders are created; written atomically).
        title: the plot title.
        fp_rates: false positives per image to mark (and to list in the legend).
        max_fp: the x-axis limit (default: a little beyond the largest rate or curve end).
        dpi: resolution.

    Returns:
        The path written.
    """
    named = {"model": curves} if isinstance(curves, FROCCurve) else dict(curves)
    fig = _new_figure((5.5, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    right = max([*fp_rates, 1.0])
    for name, curve in named.items():
        sens = froc_sensitivities(curve, fp_rates)
        listed = ", ".join(f"{s:.2f}@{r:g}" for r, s in sens.items())
        x = list(curve.fps_per_image)
        y = list(curve.sensitivity)
        x.append(max(right, x[-1]) * 1.05)  # the sensitivity stays flat beyond the lowest candidate score
        y.append(y[-1])
        (line,) = ax.step(x, y, where="post", label=f"{name} ({listed})")
        ax.plot(list(sens), list(sens.values()), "o", color=line.get_color())
        right = max(right, float(curve.fps_per_image[-1]))
    ax.set(xlim=(0, max_fp if max_fp is not None else right * 1.05), ylim=(0, 1.01))
    ax.set(xlabel="false positives per image", ylabel="lesion sensitivity", title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return _save_atomic(fig, filename, dpi)
