"""Make the figures and measured numbers of docs/transforms.md from the real images in ../shared/data.

Writes ``docs/_static/transforms_*.png`` and prints the figures quoted in the page (crop containment and
discarded area on mini-MIAS, CBIS-DDSM and CDD-CESM; laterality from the image; pectoral masks).

Run from the repository root: ``python docs/scripts/make_transform_figures.py`` (about a minute on 2 CPU
cores; ``--data`` points elsewhere than ``../shared/data``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from monai.transforms import Compose, LoadImage, Rand2DElasticd, RandAffined, Resized  # noqa: E402

from monai_mammo.data import MammoDicomReader, MammoImageReader  # noqa: E402
from monai_mammo.transforms import (  # noqa: E402
    BreastMask,
    BreastMaskd,
    BreastPercentileScale,
    BreastZScore,
    CanonicalLaterality,
    CanonicalLateralityd,
    Clahe,
    CropBreast,
    CropBreastd,
    MammoWindow,
    PectoralMask,
    PectoralMaskd,
    RandDetectorNoise,
    RandLesionPatchd,
    RandVendorLook,
    masked_quantile,
)

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "docs" / "_static"
DPI = 72


def mias_lesions(info: Path) -> dict[str, list[tuple[int, int]]]:
    """Lesion centres (row, col) per mini-MIAS image; row = 1024 - y (y is measured from the bottom)."""
    out: dict[str, list[tuple[int, int]]] = {}
    for line in info.read_text().splitlines():
        parts = line.split()
        if parts and parts[0].startswith("mdb"):
            out.setdefault(parts[0], [])
            if len(parts) >= 7:
                out[parts[0]].append((1024 - int(parts[5]), int(parts[4])))
    return out


def grey(ax, image, title, vmax_pct=99.5, unit=False):
    """Show ``image`` in grey: between its 0.5th and ``vmax_pct`` percentiles, or on [0, 1] (``unit``)."""
    img = np.asarray(image)
    lo, hi = (0.0, 1.0) if unit else (float(np.percentile(img, 0.5)), float(np.percentile(img, vmax_pct)))
    ax.imshow(img, cmap="gray", vmin=lo, vmax=hi)
    ax.set_title(title, fontsize=8)
    ax.axis("off")


def arr(x) -> np.ndarray:
    x = x.as_tensor() if hasattr(x, "as_tensor") else x
    return (x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x))[0]


def save(fig, name: str) -> None:
    path = STATIC / name
    with tempfile.NamedTemporaryFile(dir=STATIC, suffix=".png", delete=False) as tmp:
        fig.savefig(tmp.name, dpi=DPI, bbox_inches="tight")
    os.replace(tmp.name, path)
    plt.close(fig)
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")


def pipeline_figure(dicom: Path) -> None:
    """Each step on a real full-field right MLO (CBIS-DDSM), in the order a bundle runs them."""
    img = LoadImage(reader=MammoDicomReader(voi="raw"))(str(dicom))
    data = {"image": img}
    data = BreastMaskd("image")(data)
    data = PectoralMaskd("image")(data)
    mask = arr(data["breast_mask"])
    flipped = CanonicalLateralityd(["image", "breast_mask", "pectoral_mask"])(dict(data))
    cropped = CropBreastd(["image", "breast_mask", "pectoral_mask"])(dict(flipped))
    small = Resized(
        ["image", "breast_mask", "pectoral_mask"], (1024, 512), mode=["area", "nearest", "nearest"]
    )(dict(cropped))
    lo, hi = (float(v) for v in masked_quantile(small["image"], [0.005, 0.995], small["breast_mask"]))
    windowed = MammoWindow(center=(lo + hi) / 2, width=hi - lo)(small["image"])
    scaled = BreastPercentileScale()(small["image"], small["breast_mask"])
    zscored = BreastZScore()(small["image"], small["breast_mask"])
    clahe = Clahe(clip_limit=0.01)(scaled, small["breast_mask"])

    s = 4  # display subsampling of the full-field panels
    fig, axes = plt.subplots(1, 8, figsize=(16, 4.6))
    grey(axes[0], arr(img)[::s, ::s], f"raw {tuple(img.shape[1:])}\n(laterality {img.meta['laterality']})")
    grey(axes[1], arr(img)[::s, ::s], "BreastMask (red)\nPectoralMask (cyan)")
    axes[1].contour(mask[::s, ::s], [0.5], colors="r", linewidths=0.8)
    axes[1].contour(arr(data["pectoral_mask"])[::s, ::s], [0.5], colors="c", linewidths=0.8)
    start, end = CropBreast().compute_bounding_box(flipped["breast_mask"])
    grey(axes[2], arr(flipped["image"])[::s, ::s], "CanonicalLaterality\n+ CropBreast box")
    axes[2].add_patch(
        Rectangle(
            (start[1] / s, start[0] / s), (end[1] - start[1]) / s, (end[0] - start[0]) / s, fill=False, ec="y"
        )
    )
    grey(axes[3], arr(small["image"]), f"cropped, resized\n{tuple(small['image'].shape[1:])}")
    grey(axes[4], arr(windowed), "MammoWindow\n(LINEAR, breast range)", unit=True)
    grey(axes[5], arr(scaled), "BreastPercentileScale\n0.5-99.5% inside breast", unit=True)
    grey(axes[6], arr(zscored), "BreastZScore\n(0 outside)", 100)
    grey(axes[7], arr(clahe), "Clahe\n(clip 0.01)", unit=True)
    save(fig, "transforms_pipeline.png")

    # augmentation on the normalised crop
    base = BreastPercentileScale()(small["image"], small["breast_mask"])
    looks = [
        (
            "RandVendorLook\ngamma 1.5",
            RandVendorLook(1.0, 1.0, (1.5, 1.5), 0, contrast_prob=0, unsharp_prob=0),
        ),
        (
            "RandVendorLook\nsigmoid LUT",
            RandVendorLook(1.0, 0, sigmoid_prob=1, contrast_prob=0, unsharp_prob=0),
        ),
        ("RandVendorLook\nunsharp mask", RandVendorLook(1.0, 0, contrast_prob=0, unsharp_prob=1)),
        (
            "RandDetectorNoise\n(zoomed 8x)",
            RandDetectorNoise(1.0, gain_range=(2e-3, 2e-3), sigma_range=(0.005, 0.005)),
        ),
    ]
    fig, axes = plt.subplots(1, 7, figsize=(14, 4.6))
    grey(axes[0], arr(base), "normalised input", unit=True)
    for ax, (title, t) in zip(axes[1:5], looks):
        t.set_random_state(0)
        out = arr(t(base))
        if "zoom" in title:
            out = out[500:628, 150:214]
        grey(ax, out, title, unit=True)
    keys = ["image", "breast_mask", "label"]
    label = np.zeros_like(arr(small["image"]), dtype=np.uint8)[None]
    label[0, 560:600, 200:240] = 1  # an illustrative lesion, to show that masks move with the image
    d = {"image": base, "breast_mask": small["breast_mask"], "label": torch.from_numpy(label)}
    modes = ["bilinear", "nearest", "nearest"]
    aug = Compose(
        [
            RandAffined(keys, prob=1.0, rotate_range=0.15, scale_range=0.1, mode=modes),
            Rand2DElasticd(keys, spacing=(64, 64), magnitude_range=(2, 3), prob=1.0, mode=modes),
        ]
    ).set_random_state(3)
    moved = aug(d)
    grey(axes[5], arr(moved["image"]), "RandAffined+Rand2DElasticd\nimage, mask, label", unit=True)
    axes[5].contour(arr(moved["breast_mask"]), [0.5], colors="r", linewidths=0.6)
    axes[5].contour(arr(moved["label"]), [0.5], colors="lime", linewidths=0.8)
    patches = RandLesionPatchd(keys, (96, 96), pos=1, neg=2, num_samples=9).set_random_state(0)(d)
    grey(axes[6], arr(base), "RandLesionPatchd\nlime: lesion, red: breast", unit=True)
    for p in patches:
        before_r, _, before_c, _ = p["image"].applied_operations[-1]["extra_info"]["extra_info"]["cropped"]
        colour = "lime" if arr(p["label"]).any() else "r"
        axes[6].add_patch(Rectangle((before_c, before_r), 96, 96, fill=False, ec=colour, lw=0.8))
    save(fig, "transforms_augmentation.png")


def measure_and_gallery(data_root: Path) -> None:
    """The crop figures over every real image, and galleries of masks, crops and pectoral masks."""
    lesions = mias_lesions(data_root / "mini_mias" / "Info.txt")
    reader = LoadImage(reader=MammoImageReader())
    masker = BreastMask()
    rows = []
    inside = {0: 0, 16: 0}
    total = 0
    side_wrong, side_weak, side_total = [], [], 0
    pect_found, pect_lesions = 0, 0
    gallery = []
    for png in sorted((data_root / "mini_mias" / "images").glob("*.png")):
        img = reader(str(png))
        mask = masker(img)
        truth_side = "R" if int(png.stem[3:]) % 2 else "L"
        for margin in (0, 16):
            start, end = CropBreast(margin=margin).compute_bounding_box(mask)
            inside[margin] += sum(
                start[0] <= r < end[0] and start[1] <= c < end[1] for r, c in lesions.get(png.stem, [])
            )
            if margin == 16:
                rows.append(1 - float(np.prod(end - start)) / float(np.prod(img.shape[1:])))
        total += len(lesions.get(png.stem, []))
        decision = CanonicalLaterality().decide(img, laterality="UNKNOWN", mask=mask)
        side_total += 1
        if abs(decision.score) < 0.1:
            side_weak.append(png.stem)
        elif decision.laterality.value != truth_side:
            side_wrong.append(png.stem)
        muscle = PectoralMask(chest_wall="left" if truth_side == "L" else "right")(img, mask)
        pect_found += bool(arr(muscle).any())
        pect_lesions += sum(bool(arr(muscle)[r, c]) for r, c in lesions.get(png.stem, []))
        if png.stem in GALLERY:
            gallery.append((png.stem, arr(img), arr(mask), arr(muscle), lesions.get(png.stem, [])))
    n = len(rows)
    print(f"mini-MIAS: {n} images, {total} lesion centres with coordinates")
    print(f"  centres inside the crop: margin 0: {inside[0]}/{total}; margin 16: {inside[16]}/{total}")
    print(
        f"  area discarded (margin 16): mean {np.mean(rows):.1%}, median {np.median(rows):.1%}, "
        f"min {np.min(rows):.1%}, max {np.max(rows):.1%}"
    )
    print(f"  laterality from image: {side_total - len(side_wrong) - len(side_weak)}/{side_total} right, ")
    print(f"    {len(side_wrong)} wrong, {len(side_weak)} undecided (|score| < 0.1): {side_weak}")
    print(
        f"  pectoral mask found on {pect_found}/{n} MLO views; "
        f"lesion centres inside it: {pect_lesions}/{total}"
    )

    cbis = []
    for dcm in sorted((data_root / "cbis_ddsm" / "dicom").glob("*.dcm")):
        img = LoadImage(reader=MammoDicomReader(voi="raw"))(str(dcm))
        mask = masker(img)
        start, end = CropBreast().compute_bounding_box(mask)
        kept = float(np.prod(end - start)) / float(np.prod(img.shape[1:]))
        side = CanonicalLaterality().decide(img, laterality="UNKNOWN", mask=mask)
        cbis.append((dcm.stem, arr(img), arr(mask), start, end))
        print(
            f"CBIS-DDSM {dcm.stem} {img.meta['laterality']} {img.meta['view_position']} "
            f"{tuple(img.shape[1:])}: "
            f"discarded {1 - kept:.1%}; side from image {side.laterality.value} ({side.score:+.2f})"
        )
    cesm_kept = []
    cesm = []
    for jpg in sorted((data_root / "cdd_cesm" / "images").glob("*.jpg")):
        img = reader(str(jpg))
        mask = masker(img)
        colour = np.asarray(plt.imread(data_root / "cdd_cesm" / "masks" / f"{jpg.stem}.png"))[..., :3]
        lesion = ((colour[..., 0] > 0.5) | (colour[..., 1] > 0.5))[None].astype(np.uint8)
        start, end = CropBreast().compute_bounding_box(mask)
        kept_px = int(arr(CropBreast()(lesion, mask)).sum())
        cesm_kept.append(
            (kept_px, int(lesion.sum()), 1 - float(np.prod(end - start)) / float(np.prod(img.shape[1:])))
        )
        cesm.append((jpg.stem, arr(img), arr(mask), start, end, lesion[0]))
    kept_all = sum(k for k, _, _ in cesm_kept)
    print(
        f"CDD-CESM: lesion pixels kept by the crop {kept_all}/{sum(t for _, t, _ in cesm_kept)}; "
        f"area discarded mean {np.mean([d for _, _, d in cesm_kept]):.1%}"
    )

    fig, axes = plt.subplots(2, 8, figsize=(16, 4.8))
    for ax, (name, image, mask, muscle, centres) in zip(axes.flat, gallery):
        grey(ax, image[::2, ::2], name)
        ax.contour(mask[::2, ::2], [0.5], colors="r", linewidths=0.8)
        if muscle.any():
            ax.contour(muscle[::2, ::2], [0.5], colors="c", linewidths=0.8)
        start, end = CropBreast().compute_bounding_box(mask[None])
        ax.add_patch(
            Rectangle(
                (start[1] / 2, start[0] / 2),
                (end[1] - start[1]) / 2,
                (end[0] - start[0]) / 2,
                fill=False,
                ec="y",
            )
        )
        for r, c in centres:
            ax.plot(c / 2, r / 2, "+", color="lime", ms=9, mew=1.5)
    save(fig, "transforms_mias_gallery.png")

    fig, axes = plt.subplots(1, 8, figsize=(16, 4.2))
    for ax, (name, image, mask, start, end) in zip(axes[:4], cbis):
        s = 8
        grey(ax, image[::s, ::s], f"CBIS-DDSM {name}")
        ax.contour(mask[::s, ::s], [0.5], colors="r", linewidths=0.8)
        ax.add_patch(
            Rectangle(
                (start[1] / s, start[0] / s),
                (end[1] - start[1]) / s,
                (end[0] - start[0]) / s,
                fill=False,
                ec="y",
            )
        )
    for ax, (name, image, mask, start, end, lesion) in zip(axes[4:], cesm[:4]):
        grey(ax, image, name.replace("flipped_", "CESM "))
        ax.contour(mask, [0.5], colors="r", linewidths=0.8)
        ax.contour(lesion, [0.5], colors="lime", linewidths=0.8)
        ax.add_patch(
            Rectangle((start[1], start[0]), end[1] - start[1], end[0] - start[0], fill=False, ec="y")
        )
    save(fig, "transforms_cbis_cesm_gallery.png")


# mini-MIAS images with the difficulties the mask must survive: burnt-in labels and markers (mdb002,
# mdb031, mdb081), film edges and non-zero film background (mdb009, mdb061, mdb139), breasts filling the film
# (mdb151), dense breasts (mdb032, mdb067), lesions at the skin line and chest wall (mdb121, mdb212), and
# pectoral muscles of several shapes.
GALLERY = {
    "mdb001", "mdb002", "mdb009", "mdb031", "mdb032", "mdb061", "mdb067", "mdb081",
    "mdb121", "mdb139", "mdb151", "mdb163", "mdb199", "mdb212", "mdb271", "mdb315",
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    STATIC.mkdir(parents=True, exist_ok=True)
    pipeline_figure(args.data / "cbis_ddsm" / "dicom" / "1-133.dcm")
    measure_and_gallery(args.data)
    total = sum(p.stat().st_size for p in STATIC.glob("transforms_*.png"))
    print(f"transforms_*.png: {total // 1024} KiB in total")


if __name__ == "__main__":
    main()
