"""The exam report page: one self-contained HTML file per exam and an index of all exams by suspicion.

:class:`~monai_mammo.outputs.ExamReport` (``html_report=True``) writes ``<exam>/report.html`` and
``index.html`` with the functions here. A page needs no server and no network: its pictures are PNGs
embedded as base64 ``data:`` URLs, its style is inline CSS, and the overlays are switched by checkboxes with
CSS alone (no script, nothing fetched). It opens from disk in any browser.

The exam page hangs the views as a radiologist's screen does: R CC and L CC above, R MLO and L MLO below,
each breast mirrored where needed so that the chest walls face each other in the middle (the chest wall
side is measured from the pixels by :func:`~monai_mammo.transforms.breast_region.image_chest_wall_score`,
the one pixel laterality of this package). Each view is three stacked layers: the image, the evidence heat
map (red, opacity by heat) and the lesion outlines (yellow); a view the exam lacks leaves its slot labelled
"not in this exam", and any further view (a second CC of a side, an ML, an unknown view) is shown below the
hanging. Below: the exam and breast scores, the lesion table and the model card's limits in one
line. Every text from the reports is escaped (:func:`html.escape`).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

from monai_mammo.io.png import encode_png
from monai_mammo.transforms.breast_region import image_chest_wall_score

__all__ = [
    "HANGING",
    "ViewLayers",
    "exam_page_html",
    "index_page_html",
    "suspicion",
    "view_layers",
]

#: the hanging of a four-view screening exam: (row, column) -> (laterality, view)
HANGING: tuple[tuple[tuple[str, str], ...], ...] = (
    (("R", "CC"), ("L", "CC")),
    (("R", "MLO"), ("L", "MLO")),
)

#: chest-wall evidence below this is no evidence: the view is shown as stored
_CHEST_WALL_EVIDENCE = 0.1

ViewLayers = dict[str, Any]


def _resize(array: np.ndarray, size: tuple[int, int], resample: int) -> np.ndarray:
    """``array`` (``(H, W)``, uint8 or float32) resized to ``size`` = ``(h, w)`` with PIL."""
    if array.shape == size:
        return array
    image = Image.fromarray(array)
    return np.asarray(image.resize((size[1], size[0]), resample=resample))


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def view_layers(
    image: np.ndarray,
    heat: np.ndarray | None,
    lesion_mask: np.ndarray | None,
    laterality: str | None,
    max_size: int = 800,
    alpha: float = 0.6,
) -> ViewLayers:
    """The three layers of one view on the page, downscaled, and whether to mirror it.

    The heat and the lesion outline stay separate transparent PNGs over the grey image, not one picture
    blended by :func:`monai.visualize.blend_images` (as ``overlay.png`` is): the page's checkboxes switch
    each layer on and off in the browser, which a blended picture cannot.

    Args:
        image: ``(H, W)`` image, breast brighter than the background, any intensity scale (shown between its
            1st and 99th percentiles, as in :func:`~monai_mammo.outputs.overlay_image`).
        heat: ``(H, W)`` heat map in ``[0, 1]`` on the image's grid, or ``None``.
        lesion_mask: ``(H, W)`` lesion mask on the image's grid (non-zero: lesion), or ``None``.
        laterality: ``"R"`` or ``"L"`` (anything else: never mirrored).
        max_size: the longest side of the layers.
        alpha: opacity of the heat layer at heat 1.

    Returns:
        ``{"image", "heat", "lesions"}``: PNG ``data:`` URLs (``None`` for an absent layer), ``"size"``:
        ``(h, w)``, ``"mirrored"``: whether the page flips the view so that its chest wall faces the
        other breast (right breast: chest wall on the right of the picture; left: on the left), and
        ``"chest_wall_score"``.

    Raises:
        ValueError: when the heat map or the mask is not on the image's grid.
    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 2:
        raise ValueError(f"view_layers: image must be (H, W), got shape {img.shape}.")
    for name, layer in (("heat", heat), ("lesion_mask", lesion_mask)):
        if layer is not None and np.shape(layer) != img.shape:
            raise ValueError(f"view_layers: {name} has shape {np.shape(layer)}, the image {img.shape}.")
    scale = min(1.0, max_size / max(img.shape))
    size = (max(1, round(img.shape[0] * scale)), max(1, round(img.shape[1] * scale)))
    finite = img[np.isfinite(img)]
    lo, hi = np.percentile(finite, [1.0, 99.0]) if finite.size else (0.0, 1.0)
    grey = np.clip((np.nan_to_num(img) - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(img)
    grey8 = _resize(np.round(grey * 255.0).astype(np.uint8), size, Image.Resampling.LANCZOS)
    score = image_chest_wall_score(torch.as_tensor(np.nan_to_num(img))[None])
    side = str(laterality or "").upper()
    mirrored = abs(score) > _CHEST_WALL_EVIDENCE and (
        (side == "R" and score > 0) or (side == "L" and score < 0)
    )
    out: ViewLayers = {
        "image": _data_url(encode_png(grey8)),
        "heat": None,
        "lesions": None,
        "size": size,
        "mirrored": bool(mirrored),
        "chest_wall_score": float(score),
    }
    if heat is not None:
        h = np.clip(np.nan_to_num(np.asarray(heat, dtype=np.float32)), 0.0, 1.0)
        h = np.clip(_resize(h, size, Image.Resampling.BILINEAR), 0.0, 1.0)
        rgba = np.zeros((*size, 4), np.uint8)
        rgba[..., 0] = 255
        rgba[..., 3] = np.round(alpha * h * 255.0).astype(np.uint8)
        out["heat"] = _data_url(encode_png(rgba))
    if lesion_mask is not None:
        m = _resize((np.asarray(lesion_mask) > 0).astype(np.uint8) * 255, size, Image.Resampling.NEAREST) > 0
        width = max(1, math.ceil(max(size) / 400))
        outline = m & ~ndimage.binary_erosion(m, iterations=width, border_value=0)
        rgba = np.zeros((*size, 4), np.uint8)
        rgba[outline] = (255, 255, 0, 255)
        out["lesions"] = _data_url(encode_png(rgba))
    return out


def suspicion(scores: Mapping[str, Any], key: str = "malignant") -> float | None:
    """The exam's suspicion, the index's sort key: its ``key`` score (``None``: absent or not a number)."""
    value = scores.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _number(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1em;background:#fff;color:#111}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.2em}
.notice{background:#fff3cd;border:1px solid #e0c060;padding:.4em .6em;margin:.5em 0}
.hanging{display:grid;grid-template-columns:1fr 1fr;gap:6px;background:#000;padding:6px;max-width:1000px}
figure.view{margin:0;color:#ddd;text-align:center;font-size:.9em}
figure.view .stack{position:relative;display:inline-block;line-height:0}
figure.view .stack img{max-width:100%;max-height:60vh}
figure.view .stack img.layer{position:absolute;left:0;top:0;width:100%;height:100%;max-height:none}
figure.view .mirrored{transform:scaleX(-1)}
figure.view[data-laterality=R]{text-align:right}figure.view[data-laterality=L]{text-align:left}
figure.view figcaption{text-align:center;padding:.3em 0}
figure.missing{display:flex;align-items:center;justify-content:center;min-height:200px;color:#888}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #bbb;padding:.15em .5em;text-align:right}
th{background:#eee}td.text{text-align:left}
.others{display:flex;flex-wrap:wrap;gap:6px;background:#000;padding:6px;max-width:1000px;margin-top:6px}
.others figure.view{flex:1 1 45%}
#show-heat:not(:checked)~div .heat{display:none}
#show-lesions:not(:checked)~div .lesions{display:none}
.limits{font-size:.85em;color:#444;margin-top:1em}
"""


def _figure(
    laterality: str,
    view: str,
    image: Mapping[str, Any] | None,
    layers: ViewLayers | None,
    kind: str = "present",
) -> str:
    label = f"{laterality} {view}"
    slot = f'data-laterality="{_e(laterality)}" data-view="{_e(view)}"'
    if image is None or layers is None:
        caption = f"<figcaption>{_e(label)}: not in this exam</figcaption>"
        return f'<figure class="view missing" {slot}>{caption}</figure>'
    stack = [f'<img class="base" alt="{_e(label)} {_e(image.get("name"))}" src="{layers["image"]}">']
    if layers.get("heat"):
        stack.append(f'<img class="layer heat" alt="" src="{layers["heat"]}">')
    if layers.get("lesions"):
        stack.append(f'<img class="layer lesions" alt="" src="{layers["lesions"]}">')
    mirrored = " mirrored" if layers.get("mirrored") else ""
    probs = image.get("probabilities") or {}
    text = ", ".join(f"P({_e(k)}) {_number(v)}" for k, v in probs.items())
    note = " (mirrored)" if mirrored else ""
    return (
        f'<figure class="view {kind}" {slot}><div class="stack{mirrored}">{"".join(stack)}</div>'
        f"<figcaption>{_e(label)}{note}: {text}</figcaption></figure>"
    )


def exam_page_html(
    report: Mapping[str, Any], layers: Mapping[str, ViewLayers], limits: str | None = None
) -> str:
    """The exam's page: the hanging with its overlays, the scores, the lesion table and the limits.

    Args:
        report: the exam's ``report.json`` content (:class:`~monai_mammo.outputs.ExamReport`).
        layers: per image name, its :func:`view_layers`; an image without layers is not shown. The first
            image of each slot of :data:`HANGING` is hung there; the others follow below the hanging.
        limits: the model card's limits in one line (``None``: not shown).

    Returns:
        the HTML text.
    """
    class_names = list(report.get("class_names") or [])
    by_slot: dict[tuple[str, str], Mapping[str, Any]] = {}
    for image in report.get("images", []):
        key = (str(image.get("laterality") or "").upper(), str(image.get("view") or "").upper())
        if image.get("name") in layers and key not in by_slot:
            by_slot[key] = image
    hanging = []
    for row in HANGING:
        for laterality, view in row:
            image = by_slot.get((laterality, view))
            hanging.append(_figure(laterality, view, image, layers.get(image["name"]) if image else None))
    hung = {id(by_slot[slot]) for row in HANGING for slot in row if slot in by_slot}
    others = [
        _figure(str(i.get("laterality")), str(i.get("view")), i, layers[i["name"]], kind="other")
        for i in report.get("images", [])
        if i.get("name") in layers and id(i) not in hung
    ]
    exam = report.get("exam") or {}
    exam_rows = "".join(
        f'<tr><td class="text">{_e(k)}</td><td class="score" data-score="{_e(k)}">{_number(v)}</td></tr>'
        for k, v in exam.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    )
    exam_rows += "".join(
        f'<tr><td class="text">{_e(k.replace("_", " "))}</td><td class="text">{_e(exam.get(k))}</td></tr>'
        for k in ("predicted_class", "most_suspicious_breast")
        if exam.get(k) is not None
    )
    breast_head = "".join(f"<th>P({_e(c)})</th>" for c in class_names)
    breast_rows = "".join(
        f'<tr class="breast" data-laterality="{_e(b.get("laterality"))}">'
        f'<td class="text">{_e(b.get("laterality"))}</td><td class="text">{_e(b.get("views"))}</td>'
        + "".join(f"<td>{_number(b.get(f'p_{c}'))}</td>" for c in class_names)
        + f'<td>{_number(b.get("abnormal"))}</td><td class="text">{_e(b.get("predicted_class"))}</td></tr>'
        for b in report.get("breasts", [])
    )
    lesion_rows = []
    for image in report.get("images", []):
        for lesion in image.get("lesions") or []:
            box = "-".join(str(lesion.get(k)) for k in ("bbox_row0", "bbox_col0", "bbox_row1", "bbox_col1"))
            lesion_rows.append(
                f'<tr><td class="text">{_e(image.get("laterality"))} {_e(image.get("view"))}</td>'
                f"<td>{_e(lesion.get('label'))}</td><td>{_e(box)}</td>"
                f"<td>{_number(lesion.get('area_mm2'), 1)}</td>"
                f"<td>{_number(lesion.get('max_prob'))}</td><td>{_number(lesion.get('mean_prob'))}</td></tr>"
            )
    no_lesions = '<tr><td class="text" colspan="6">no lesion found</td></tr>'
    aggregation = report.get("aggregation") or {}
    heatmap = report.get("heatmap") or {}
    title = f"Exam {report.get('exam_id')}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        '<p><a href="../index.html">all exams</a></p>',
        f"<h1>{_e(title)}</h1>",
        f"<p>Patient {_e(report.get('patient_id'))}; views grouped into this exam by "
        f"{_e(report.get('grouped_by'))}.</p>",
        '<p class="notice"><strong>Not for clinical use</strong>: research software.</p>',
        '<input type="checkbox" id="show-heat" checked><label for="show-heat">heat map'
        f" ({_e(heatmap.get('method'))} of {_e(heatmap.get('class'))})</label> ",
        '<input type="checkbox" id="show-lesions" checked><label for="show-lesions">lesion outlines</label>',
        '<div class="hanging">' + "".join(hanging) + "</div>",
        '<div class="others">' + "".join(others) + "</div>" if others else "",
        "<h2>Exam scores</h2>",
        f'<table class="exam-scores"><tr><th>score</th><th>value</th></tr>{exam_rows}</table>',
        f"<p>Breast: {_e(aggregation.get('breast'))}. Exam: {_e(aggregation.get('exam'))}.</p>",
        "<h2>Breast scores</h2>",
        f'<table class="breast-scores"><tr><th>side</th><th>views</th>{breast_head}'
        f"<th>abnormal</th><th>predicted</th></tr>{breast_rows}</table>",
        "<h2>Lesions</h2>",
        '<table class="lesions-table"><tr><th>view</th><th>#</th><th>box (row0-col0-row1-col1, px)</th>'
        "<th>area mm²</th><th>max prob</th><th>mean prob</th></tr>"
        + ("".join(lesion_rows) or no_lesions)
        + "</table>",
    ]
    if limits:
        parts.append(f'<p class="limits">Limits: {_e(" ".join(str(limits).split()))}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def index_page_html(
    exams: Sequence[Mapping[str, Any]], key: str = "malignant", limits: str | None = None
) -> str:
    """The index of all exams, most suspicious first.

    Args:
        exams: the rows of the exam index (``exam_id``, ``patient_id``, ``folder``, ``n_images``,
            ``n_lesions`` and the exam scores), as in ``index.json``.
        key: the score that orders the exams, highest first; exams without it come last.
        limits: the model card's limits in one line (``None``: not shown).

    Returns:
        the HTML text; each row links to ``<folder>/report.html``.
    """
    ordered = sorted(exams, key=lambda row: (suspicion(row, key) is None, -(suspicion(row, key) or 0.0)))
    rows = "".join(
        f'<tr class="exam" data-suspicion="{_number(suspicion(row, key), 6)}">'
        f'<td class="text"><a href="{_e(row.get("folder"))}/report.html">{_e(row.get("exam_id"))}</a></td>'
        f'<td class="text">{_e(row.get("patient_id"))}</td><td>{_number(suspicion(row, key))}</td>'
        f'<td>{_number(row.get("abnormal"))}</td><td class="text">{_e(row.get("predicted_class"))}</td>'
        f'<td class="text">{_e(row.get("most_suspicious_breast"))}</td><td>{_e(row.get("n_images"))}</td>'
        f"<td>{_e(row.get('n_lesions'))}</td></tr>"
        for row in ordered
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Exams by suspicion</title><style>{_STYLE}</style></head><body>",
        "<h1>Exams by suspicion</h1>",
        f"<p>{len(ordered)} exam(s), sorted by the exam's {_e(key)} score, highest first.</p>",
        '<p class="notice"><strong>Not for clinical use</strong>: research software.</p>',
        f'<table class="exams"><tr><th>exam</th><th>patient</th><th>{_e(key)}</th><th>abnormal</th>'
        f"<th>predicted</th><th>worst breast</th><th>views</th><th>lesions</th></tr>{rows}</table>",
    ]
    if limits:
        parts.append(f'<p class="limits">Limits: {_e(" ".join(str(limits).split()))}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
