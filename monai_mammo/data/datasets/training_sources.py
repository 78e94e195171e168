"""The real training data of both bundles, merged from the public sets beside the project, split by woman.

Both bundles' ``scripts/prepare_training_data.py`` call :func:`build_training_folds` with the same sources and
seed, so the two models hold out the same women. Sources (nothing is copied into the repository; generated
files go to ``out``):

- ``ddsm_boxes``: DDSM films with lesion boxes (weak masks: the ellipse inscribed in each box), images cached
  at 512 x 512, split by DDSM case;
- ``mini_mias``: mini-MIAS films (circle masks from ``Info.txt``), cached at 512 x 512, split by woman;
- ``cdd_cesm``: CDD-CESM low-energy JPEGs, colour masks (red malignant, green benign) thresholded into 0/1
  PNGs, split by patient (``P<number>`` in the file name);
- phantoms (``phantoms=N``): :func:`monai_mammo.data.phantom.write_phantom_dataset`, split by phantom woman.

Every item has ``image``, ``label`` (the lesion mask; empty for a normal image), ``class`` (0 normal,
1 benign, 2 malignant, -1 a lesion of unknown pathology), ``patient_id`` (prefixed by the source),
``laterality``/``view`` where the source gives them, and ``source``. The sources share no woman, so the merged
folds stay patient-disjoint.
"""

from __future__ import annotations

import argparse
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from monai_mammo.data.datalist import split_datalist, tag_source, write_datalist
from monai_mammo.data.datasets.cache import decode_image
from monai_mammo.data.datasets.masks import colour_lesion_masks
from monai_mammo.data.datasets.prepare import prepare_dataset
from monai_mammo.data.phantom import write_phantom_dataset
from monai_mammo.io import atomic_write_bytes, encode_png

__all__ = [
    "FOLDS",
    "REAL_SOURCES",
    "build_training_folds",
    "cdd_cesm_folds",
    "compact_copy",
    "prepare_training_data",
    "write_training_datalists",
]

FOLDS = ("training", "validation", "test")
REAL_SOURCES = ("ddsm_boxes", "mini_mias", "cdd_cesm")
KEEP = ("image", "label", "patient_id", "class", "laterality", "view", "source")
Folds = dict[str, list[dict[str, Any]]]


def cdd_cesm_folds(root: Path, out: Path, seed: int) -> Folds:
    """Threshold the CDD-CESM colour masks into 0/1 PNGs under ``out/cdd_cesm`` and split by patient."""
    items = []
    for image in sorted((root / "images").glob("*.jpg")):
        malignant, benign = colour_lesion_masks(root / "masks" / f"{image.stem}.png")
        label = out / "cdd_cesm" / "labels" / f"{image.stem}.png"
        atomic_write_bytes(label, encode_png((malignant | benign).astype(np.uint8)))
        patient = re.search(r"P(\d+)", image.stem)
        side = re.search(r"_([LR])_", image.stem)
        view = re.search(r"_(CC|MLO)$", image.stem)
        items.append(
            {
                "image": str(image.resolve()),
                "label": str(label.resolve()),
                "patient_id": f"cdd_cesm:P{patient.group(1) if patient else image.stem}",
                "class": 2 if malignant.any() else (1 if benign.any() else 0),
                "laterality": side.group(1) if side else "UNKNOWN",
                "view": view.group(1) if view else "UNKNOWN",
                "source": "cdd_cesm",
            }
        )
    return split_datalist(items, fractions=(0.6, 0.2, 0.2), seed=seed, patient_key="patient_id")


def build_training_folds(
    shared: Path, out: Path, sources: Sequence[str] = REAL_SOURCES, phantoms: int = 0, seed: int = 0
) -> dict[str, Folds]:
    """Import ``sources`` from ``shared`` (and ``phantoms`` phantom images) into ``out``; folds per source.

    Args:
        shared: the folder holding ``ddsm_boxes/``, ``mini_mias/``, ``cdd_cesm/``.
        out: the output folder (caches, masks, per-source datalists).
        sources: the real sources to include (names of :data:`REAL_SOURCES`).
        phantoms: phantom images to add (0: none).
        seed: the split seed.

    Returns:
        ``{source: {"training": [...], "validation": [...], "test": [...]}}``.

    Raises:
        ValueError: for an unknown source name.
    """
    unknown = sorted(set(sources) - set(REAL_SOURCES))
    if unknown:
        raise ValueError(f"unknown source(s) {unknown}; choose among {list(REAL_SOURCES)}.")
    folds: dict[str, Folds] = {}
    for name in (s for s in ("ddsm_boxes", "mini_mias") if s in sources):
        datalist = prepare_dataset(
            name,
            shared / name,
            out / name / "datalist.json",
            seed=seed,
            cache_dir=out / name / "cache",
            size=(512, 512),
            workers=2,
            progress=False,
        )
        data = json.loads(Path(datalist).read_text())
        folds[name] = {f: tag_source(data[f], name, Path(datalist).parent, KEEP) for f in FOLDS}
    if "cdd_cesm" in sources:
        folds["cdd_cesm"] = cdd_cesm_folds(shared / "cdd_cesm", out, seed)
    if phantoms:
        path = write_phantom_dataset(out / "phantoms", n_images=phantoms, shape=(512, 416), seed=seed)
        data = json.loads(Path(path).read_text())
        folds["phantom"] = {f: tag_source(data[f], "phantom", Path(path).parent, KEEP) for f in FOLDS}
    return folds


def write_training_datalists(folds: dict[str, Folds], out: Path, bundle: str) -> dict[str, dict[str, int]]:
    """Write ``out/datalist.json`` (all sources merged), ``out/test_<source>.json`` and ``out/test_all.json``.

    Args:
        folds: as :func:`build_training_folds` returns.
        out: the output folder.
        bundle: the bundle's name, for the datalists' descriptions.

    Returns:
        The image count per source and fold.
    """
    merged = {f: [item for source in folds.values() for item in source[f]] for f in FOLDS}
    summary = {s: {f: len(v[f]) for f in FOLDS} for s, v in folds.items()}
    description = f"{bundle} training data: {' + '.join(folds)}, split by patient"
    write_datalist({"description": description, "counts": summary, **merged}, out / "datalist.json")
    for source, source_folds in folds.items():
        if source_folds["test"]:
            write_datalist(
                {"description": f"{source} test fold", "test": source_folds["test"]},
                out / f"test_{source}.json",
            )
    write_datalist(
        {"description": "test folds of all sources", "test": merged["test"]}, out / "test_all.json"
    )
    return summary


def compact_copy(datalist: Path, out: Path, max_side: int = 640, quality: int = 92) -> Path:
    """A small, self-contained copy of a training datalist: 8-bit JPEG images, PNG masks, relative paths.

    For moving the training data to another machine with a size limit (e.g. a lent GPU machine, whose copy of
    the working tree is limited to 64 MiB): every image of every fold is scaled so its longer side is at most
    ``max_side`` (masks alike, nearest neighbour), its grey values stretched to 8 bits between its minimum and
    maximum, and saved as JPEG; the datalist is rewritten with paths relative to ``out``.

    Args:
        datalist: the datalist JSON (e.g. from :func:`write_training_datalists`).
        out: the output folder (``images/``, ``labels/``, ``datalist.json``).
        max_side: the longest side of the copies, in pixels.
        quality: JPEG quality.

    Returns:
        The path of the written datalist.
    """
    data = json.loads(Path(datalist).read_text())
    base = Path(datalist).parent
    written: dict[str, list[dict[str, Any]]] = {}
    for fold in FOLDS:
        written[fold] = []
        for n, item in enumerate(data.get(fold, [])):
            stem = f"{fold}_{n:05d}"
            pixels = np.asarray(decode_image(base / item["image"]), dtype=np.float64).squeeze()
            low, high = float(pixels.min()), float(pixels.max())
            grey = Image.fromarray(np.uint8(np.round(255 * (pixels - low) / max(high - low, 1e-9))))
            scale = min(1.0, max_side / max(grey.size))
            size = (max(1, round(grey.size[0] * scale)), max(1, round(grey.size[1] * scale)))
            buffer = io.BytesIO()
            grey.resize(size, Image.Resampling.LANCZOS).save(buffer, format="JPEG", quality=quality)
            atomic_write_bytes(out / "images" / f"{stem}.jpg", buffer.getvalue())
            copy = {k: v for k, v in item.items() if k != "breast_mask"}  # recomputed by the bundles
            copy["image"] = f"images/{stem}.jpg"
            if item.get("label"):
                mask = np.asarray(Image.open(base / item["label"])).squeeze() > 0  # PNG masks; may be empty
                small = Image.fromarray(np.uint8(mask)).resize(size, Image.Resampling.NEAREST)
                atomic_write_bytes(out / "labels" / f"{stem}.png", encode_png(np.asarray(small)))
                copy["label"] = f"labels/{stem}.png"
            written[fold].append(copy)
    return Path(
        write_datalist({"description": f"compact copy of {datalist}", **written}, out / "datalist.json")
    )


def prepare_training_data(
    bundle: str, description: str, shared: Path, argv: Sequence[str] | None = None
) -> None:
    """The command line of both bundles' ``scripts/prepare_training_data.py``: folds, datalists, counts.

    Args:
        bundle: the bundle's name (for the datalists' descriptions).
        description: the script's one-line description (``--help``).
        shared: the default folder of the real data (``--shared``).
        argv: the arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--shared", type=Path, default=shared, help="real data")
    parser.add_argument("--out", type=Path, required=True, help="output folder (not in the repository)")
    parser.add_argument("--phantoms", type=int, default=0, help="number of phantom images (default 0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sources",
        nargs="+",
        choices=REAL_SOURCES,
        default=list(REAL_SOURCES),
        help="real sources (default: all)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    folds = build_training_folds(args.shared, out, args.sources, args.phantoms, args.seed)
    print(json.dumps(write_training_datalists(folds, out, bundle), indent=2))
