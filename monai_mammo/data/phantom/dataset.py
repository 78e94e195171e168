"""Write a folder of phantom DICOM mammograms, their masks and a MONAI datalist.

Layout of ``out_dir`` (the datalist's folder; every path in the datalist is relative to it)::

    datalist.json
    images/<image_id>.dcm          DICOM MG, 12 bits stored
    labels/<image_id>.png          lesion mask, uint8 0/1 (1 = lesion)
    breast_masks/<image_id>.png    breast mask, uint8 0/1

Images come as screening exams: each phantom woman has L-CC, L-MLO, R-CC and R-MLO (the last woman has
fewer when ``n_images`` is not a multiple of 4). The folds are split by woman
(:func:`monai_mammo.data.datalist.split_datalist`, stratified by her worst class), so no woman is in two
folds.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.uid import ExplicitVRLittleEndian

from monai_mammo.utils.enums import PhotometricInterpretation

from .dicom import write_phantom_dicom
from .generator import Phantom, _check_seed, _check_shape, make_phantom
from .lesions import Pathology

DATALIST_NAME = "datalist.json"
"""File name of the datalist written in the output folder."""

DEFAULT_PHANTOM_FRACTIONS: tuple[float, float, float] = (0.6, 0.2, 0.2)
"""Default (training, validation, test) shares of the phantom women."""

_EXAM = (("L", "CC"), ("L", "MLO"), ("R", "CC"), ("R", "MLO"))


def _png_bytes(mask: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(mask, dtype=np.uint8)).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _fill_empty_folds(folds: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Move whole women from the fold with the most women into empty folds (needs three or more women).

    ``split_datalist`` rounds small numbers of women towards the larger folds (3 women at 60/20/20 give
    2/1/0); MONAI's ``load_decathlon_datalist`` fails on an empty ``"test"`` list, so with three women or
    more every fold gets at least one.
    """
    order = ("training", "validation", "test")
    women = {fold: sorted({item["patient_id"] for item in folds[fold]}) for fold in order}
    if sum(len(w) for w in women.values()) < len(order):
        return folds
    for fold in order:
        if women[fold]:
            continue
        donor = max(order, key=lambda f: (len(women[f]), -order.index(f)))
        moved = women[donor].pop()
        women[fold].append(moved)
        folds[fold] = [item for item in folds[donor] if item["patient_id"] == moved]
        folds[donor] = [item for item in folds[donor] if item["patient_id"] != moved]
    return folds


def phantom_item(phantom: Phantom, image: str, label: str, breast_mask: str) -> dict[str, Any]:
    """The datalist item of a phantom written at the given (relative) paths.

    Args:
        phantom: the phantom.
        image: path of its DICOM file.
        label: path of its lesion mask PNG.
        breast_mask: path of its breast mask PNG.

    Returns:
        ``{"image", "label", "breast_mask", "class", "pathology", "malignant", "patient_id", "image_id",
        "laterality", "view", "density", "pixel_spacing", "boxes", "lesions"}``; ``boxes`` are
        ``[x_min, y_min, x_max, y_max]`` with x the column (the importers' convention), maxima exclusive;
        ``lesions`` the :meth:`LesionRecord.to_dict` records (bbox in ``(row, col)`` order).
    """
    pathology = phantom.pathology
    return {
        "image": image,
        "label": label,
        "breast_mask": breast_mask,
        "class": pathology.class_index,
        "pathology": pathology.value,
        "malignant": int(pathology == Pathology.MALIGNANT),
        "patient_id": phantom.patient_id,
        "image_id": phantom.image_id,
        "laterality": phantom.laterality.value,
        "view": phantom.view.value,
        "density": phantom.density.value,
        "pixel_spacing": [float(v) for v in phantom.pixel_spacing],
        "boxes": [[r.bbox[1], r.bbox[0], r.bbox[3], r.bbox[2]] for r in phantom.lesions],
        "lesions": [r.to_dict() for r in phantom.lesions],
    }


def write_phantom_dataset(
    out_dir: str | os.PathLike[str],
    n_images: int = 4,
    shape: Sequence[int] = (512, 416),
    seed: int = 0,
    *,
    fractions: Sequence[float] = DEFAULT_PHANTOM_FRACTIONS,
    photometric: PhotometricInterpretation | str = PhotometricInterpretation.MONOCHROME2,
    transfer_syntax: str = ExplicitVRLittleEndian,
    density: str | None = None,
) -> Path:
    """Write ``n_images`` phantom mammograms, their masks and a MONAI datalist into ``out_dir``.

    The output depends only on the arguments: the same call writes the same bytes. Existing files of the
    same names are replaced (each one atomically); other files in ``out_dir`` are left alone.

    Example::

        from monai.data import load_decathlon_datalist
        from monai_mammo.data.phantom import write_phantom_dataset

        datalist = write_phantom_dataset("phantoms", n_images=12, seed=0)
        train = load_decathlon_datalist(datalist, data_list_key="training")

    Args:
        out_dir: output folder (created).
        n_images: number of images (``>= 1``); ``ceil(n_images / 4)`` women with four views each.
        shape: ``(rows, columns)`` of every image.
        seed: non-negative seed.
        fractions: (training, validation, test) shares of the women. With three women or more every fold
            gets at least one; with fewer, the later folds are empty lists (MONAI's
            ``load_decathlon_datalist`` cannot load an empty ``"test"`` list: write at least 12 images).
        photometric: ``"MONOCHROME2"`` or ``"MONOCHROME1"``.
        transfer_syntax: DICOM transfer syntax (see
            :func:`~monai_mammo.data.phantom.dicom.phantom_to_dicom`).
        density: BI-RADS density for every woman, or ``None`` to draw each one's.

    Returns:
        The path of the datalist JSON (``out_dir/datalist.json``).

    Raises:
        ValueError: a bad ``n_images``, shape, seed, fractions or DICOM option.
    """
    from monai_mammo.data.datalist import split_datalist, write_datalist
    from monai_mammo.io import atomic_write_bytes

    if isinstance(n_images, bool) or not isinstance(n_images, (int, np.integer)) or n_images < 1:
        raise ValueError(f"n_images must be a positive integer, got {n_images!r}.")
    rows, cols = _check_shape(shape)
    seed = _check_seed(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items: list[dict[str, Any]] = []
    n_patients = math.ceil(int(n_images) / len(_EXAM))
    for k in range(int(n_images)):
        patient_index, view_index = divmod(k, len(_EXAM))
        laterality, view = _EXAM[view_index]
        phantom = make_phantom(
            (rows, cols),
            seed=seed,
            laterality=laterality,
            view=view,
            density=density,
            patient_index=patient_index,
        )
        image = f"images/{phantom.image_id}.dcm"
        label = f"labels/{phantom.image_id}.png"
        breast = f"breast_masks/{phantom.image_id}.png"
        write_phantom_dicom(phantom, out / image, photometric=photometric, transfer_syntax=transfer_syntax)
        atomic_write_bytes(out / label, _png_bytes(phantom.lesion_mask))
        atomic_write_bytes(out / breast, _png_bytes(phantom.breast_mask))
        items.append(phantom_item(phantom, image, label, breast))
    folds = split_datalist(
        items, fractions=fractions, seed=seed, patient_key="patient_id", stratify_by="class"
    )
    folds = _fill_empty_folds(folds)
    datalist: dict[str, Any] = {
        "name": "monai_mammo phantom",
        "description": "Synthetic DICOM MG mammograms with lesion masks (monai_mammo.data.phantom).",
        "reference": "monai_mammo.data.phantom.write_phantom_dataset",
        "licence": "CC0 (synthetic)",
        "tensorImageSize": "2D",
        "modality": {"0": "MG"},
        "labels": {"0": "background", "1": "lesion"},
        "classes": {"0": "normal", "1": "benign", "2": "malignant"},
        "seed": seed,
        "shape": [rows, cols],
        "numPatients": n_patients,
        "numTraining": len(folds["training"]),
        "numValidation": len(folds["validation"]),
        "numTest": len(folds["test"]),
        **folds,
    }
    return write_datalist(datalist, out / DATALIST_NAME, path_keys=("image", "label", "breast_mask"))
