"""MONAI Label train tasks for the monai_mammo bundles: the bundle's own ``train.json`` on the saved labels.

MONAI Label's :class:`BundleTrainTask` overrides ``train#dataset#data``; the monai_mammo bundles build their
datasets *and* their samplers from ``train#datalist`` (and ``validate#datalist``), so these tasks put the
labelled images there instead, as the bundle's own items:

- :class:`MammoSegmentationTrain`: the saved label is the lesion mask;
- :class:`MammoClassificationTrain`: the saved label is the lesion mask the patches are cut from, and gives
  the class (its ``class`` parameter, else the largest value of the mask).

Both also

- keep the run in ``<bundle>/runs/monailabel`` and, when the run has saved a best model, publish it as
  ``<bundle>/models/model.pt`` (written atomically), which the infer task reloads at its next request;
- let a request set a few sizes of the bundle (:data:`PASSTHROUGH_KEYS`) for short runs;
- validate on the training images, with a warning, when the validation split leaves no image (MONAI
  Label users often start from two or three labels).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import torch
from monai.transforms import LoadImage
from monailabel.interfaces.datastore import Datastore
from monailabel.tasks.train.bundle import BundleTrainTask

from monai_mammo.data.readers.auto import MammoAutoReader
from monai_mammo.io import atomic_write_bytes

__all__ = [
    "PASSTHROUGH_KEYS",
    "MammoBundleTrain",
    "MammoClassificationTrain",
    "MammoSegmentationTrain",
    "NoLabelsError",
    "mask_has_lesion",
    "read_mask",
]

logger = logging.getLogger(__name__)

PASSTHROUGH_KEYS = (
    "image_size",
    "patch_size",
    "roi_size",
    "num_samples",
    "batch_size",
    "learning_rate",
    "seed",
)
"""Request keys passed to the bundle config as they are."""


FINAL = "final"
"""The label tag MONAI Label trains on."""


def read_mask(path: str | os.PathLike[str]) -> torch.Tensor:
    """A saved label file (PNG, TIFF, NIfTI, DICOM) as a tensor."""
    return torch.as_tensor(LoadImage(reader=MammoAutoReader(), image_only=True)(str(path)))


def mask_has_lesion(path: str | os.PathLike[str]) -> bool:
    """Whether the label file has a non-zero pixel."""
    return bool(torch.count_nonzero(read_mask(path)) > 0)


class NoLabelsError(ValueError):
    """Training was asked for, but the datastore holds no image with a final label."""


class MammoBundleTrain(BundleTrainTask):
    """Train a monai_mammo bundle from the labels saved in MONAI Label (base of the two tasks below).

    Args:
        path: the bundle folder (``configs/train.json``, ``configs/metadata.json``).
        conf: the MONAI Label app's ``--conf`` options.
        kwargs: passed to :class:`BundleTrainTask`.
    """

    run_folder = "runs/monailabel"

    def __init__(self, path: str, conf: dict[str, str], **kwargs: Any) -> None:
        kwargs.setdefault("model_dict_key", "model")
        super().__init__(path, conf, **kwargs)
        self._request: dict[str, Any] = {}

    @property
    def run_dir(self) -> Path:
        """Where the run writes its checkpoints and TensorBoard logs."""
        return Path(self.bundle_path) / self.run_folder

    def datalist_item(self, image_id: str, datastore: Datastore) -> dict[str, Any]:
        """The bundle's datalist item for one image with a final label.

        Args:
            image_id: the image's id in the datastore.
            datastore: the app's datastore.
        """
        raise NotImplementedError

    def _fetch_datalist(self, request: dict[str, Any], datastore: Datastore) -> list[dict[str, Any]]:
        items = [self.datalist_item(i, datastore) for i in datastore.get_labeled_images(label_tag=FINAL)]
        if not items:
            raise NoLabelsError(
                f"no image of the datastore has a final label to train {request.get('model')!r} on; "
                "save labels first (PUT /datastore/label?image=...&tag=final)."
            )
        return items

    def _partition_datalist(
        self, datalist: list[dict[str, Any]], request: dict[str, Any], shuffle: bool = False
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
        train, validation = super()._partition_datalist(datalist, request, shuffle=shuffle)
        if validation is not None and not validation:
            logger.warning("the validation split holds no image: validating on the training images.")
            validation = list(train)
        return train, validation

    def _update_overrides(self, overrides: dict[str, Any]) -> dict[str, Any]:
        overrides["train#datalist"] = overrides.pop("train#dataset#data")
        if "validate#dataset#data" in overrides:
            overrides["validate#datalist"] = overrides.pop("validate#dataset#data")
        overrides["epochs"] = overrides["train#trainer#max_epochs"]
        overrides["output_dir"] = overrides["ckpt_dir"] = str(self.run_dir)
        overrides["resume"] = False
        for key in PASSTHROUGH_KEYS:
            if key in self._request:
                overrides[key] = self._request[key]
        return overrides

    def publish(self, since: float) -> Path | None:
        """Copy the run's best model to ``models/model.pt`` when the run saved one after ``since``.

        Args:
            since: the run's start (``time.time()``); an older ``model.pt`` of an earlier run is left alone.

        Returns:
            The published file, or ``None`` when the run saved no best model.
        """
        best = self.run_dir / "model.pt"
        if not best.is_file() or best.stat().st_mtime < since:
            logger.warning(f"the run saved no best model in {self.run_dir}; models/model.pt is unchanged.")
            return None
        target = atomic_write_bytes(Path(self.bundle_path) / "models" / "model.pt", best.read_bytes())
        logger.info(f"published the best model of the run as {target}.")
        return target

    def __call__(self, request: dict[str, Any], datastore: Datastore) -> dict[str, Any]:
        """Train on the datastore's labelled images, then publish the best model.

        Args:
            request: the MONAI Label train request (``max_epochs``, ``val_split``, ``device``, ... and the
                :data:`PASSTHROUGH_KEYS`).
            datastore: the app's datastore.

        Returns:
            MONAI Label's train result, with ``published`` (the model file or ``None``).
        """
        self._request = dict(request)
        started = time.time()
        result = super().__call__(request, datastore) or {}
        published = self.publish(started)
        return {**result, "published": str(published) if published else None}


class MammoSegmentationTrain(MammoBundleTrain):
    """Train the segmentation bundle on the saved lesion masks (any non-zero pixel is lesion)."""

    def datalist_item(self, image_id: str, datastore: Datastore) -> dict[str, Any]:
        """``image``, ``label`` (the mask file) and ``lesion`` (1 when the mask has a lesion pixel: the
        bundle's sampler draws those images more often)."""
        label = datastore.get_label_uri(image_id, FINAL)
        return {
            "image": datastore.get_image_uri(image_id),
            "label": label,
            "lesion": int(mask_has_lesion(label)),
        }


class MammoClassificationTrain(MammoBundleTrain):
    """Train the classification bundle; the class of an image comes from its saved label.

    The class is the label's ``class`` parameter when it was saved with one (``PUT /datastore/label`` with
    ``params={"class": "malignant"}``, a class name of the bundle or its index); otherwise the largest
    value in the saved mask, read as the class index (0: no lesion = normal, 1 benign, 2 malignant for the
    shipped bundle), so that a lesion outline drawn with the class as its label value also works.

    Args:
        path: the bundle folder.
        conf: the MONAI Label app's ``--conf`` options.
        kwargs: passed to :class:`BundleTrainTask`.
    """

    def __init__(self, path: str, conf: dict[str, str], **kwargs: Any) -> None:
        super().__init__(path, conf, **kwargs)
        if self.valid:
            metadata = json.loads(Path(self.bundle_metadata_path).read_text())
            channels = next(iter(metadata["network_data_format"]["outputs"].values()))["channel_def"]
            self.class_names = [str(channels[k]).lower() for k in sorted(channels, key=int)]

    def class_index(self, image_id: str, info: dict[str, Any], label_path: str) -> int:
        """The class of one labelled image (see the class docstring).

        Raises:
            ValueError: for a class that is not one of the bundle's, naming the image.
        """
        value = info.get("class")
        if value is None:
            value = int(read_mask(label_path).max().item())
        name = str(value).strip().lower()
        if name in self.class_names:
            return self.class_names.index(name)
        if name.isdigit() and int(name) < len(self.class_names):
            return int(name)
        raise ValueError(
            f"image {image_id!r}: class {value!r} is not one of {', '.join(self.class_names)} (or 0-"
            f"{len(self.class_names) - 1})."
        )

    def _update_overrides(self, overrides: dict[str, Any]) -> dict[str, Any]:
        overrides = super()._update_overrides(overrides)
        if "validate#datalist" in overrides:  # validation reads whole images and is judged on their class
            overrides["validate#datalist"] = [
                {"image": d["image"], "label": d["class"]} for d in overrides["validate#datalist"]
            ]
        return overrides

    def datalist_item(self, image_id: str, datastore: Datastore) -> dict[str, Any]:
        """``image``, ``label`` (the saved mask: the bundle trains on patches cut around its lesion pixels and
        from the rest of the breast) and ``class`` (the class index). A saved label with a class but an empty
        mask gives background patches only."""
        info = datastore.get_label_info(image_id, FINAL) or {}
        label_path = datastore.get_label_uri(image_id, FINAL)
        return {
            "image": datastore.get_image_uri(image_id),
            "label": label_path,
            "class": self.class_index(image_id, info, label_path),
        }
