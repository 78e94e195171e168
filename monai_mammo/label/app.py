"""The MONAI Label app of monai_mammo: the mammography bundles served and trained through MONAI Label.

Each bundle under ``<app>/model/`` becomes an infer task and a train task named after its folder; what
kind of task is read from its ``metadata.json`` (the output's ``format``: ``segmentation`` or
``classification``). Beyond MONAI Label's stock bundle app it

- lists DICOM files (``*.dcm``) in a local studies folder, as mammograms are stored;
- answers a request it cannot serve with an HTTP error that says why, instead of an internal error or
  a background task that fails: an unknown model (to infer or train) or image is a 404, a file that is
  not a readable mammogram a 422 naming the reader's error (:class:`monai_mammo.data.MammoReadError` and
  its subclasses).

Start it with ``monailabel start_server --app <app> --studies <folder or DICOMweb URL> --conf models all``
on a folder written by :func:`monai_mammo.label.write_label_app` (docs: ``docs/label.md``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from monailabel.config import settings
from monailabel.datastore.local import LocalDatastore
from monailabel.interfaces.app import MONAILabelApp
from monailabel.interfaces.datastore import Datastore
from monailabel.interfaces.tasks.infer_v2 import InferTask
from monailabel.interfaces.tasks.strategy import Strategy
from monailabel.interfaces.tasks.train import TrainTask
from monailabel.tasks.activelearning.first import First
from monailabel.tasks.activelearning.random import Random

import monai_mammo
from monai_mammo.data.errors import MammoReadError
from monai_mammo.data.failures import root_cause
from monai_mammo.label.infer import MammoClassificationInfer, MammoSegmentationInfer
from monai_mammo.label.train import MammoClassificationTrain, MammoSegmentationTrain

__all__ = ["DICOM_PATTERNS", "MammoLabelApp", "bundle_kind", "find_bundles", "single_instance"]

logger = logging.getLogger(__name__)

DICOM_PATTERNS = ("*.dcm", "*.DCM", "*.dicom")
"""File patterns added to MONAI Label's datastore extensions (which lack DICOM files)."""

_KINDS = {"segmentation": "segmentation", "classes": "classification", "classification": "classification"}
"""The output ``format`` of a bundle's metadata (model-zoo names) -> the kind of task."""


def bundle_kind(path: str | os.PathLike[str]) -> str:
    """``"segmentation"`` or ``"classification"``, from the ``format`` of the bundle's first output
    (``segmentation``; ``classes`` as model-zoo classifiers write it, or ``classification``).

    Args:
        path: the bundle folder.

    Raises:
        ValueError: when the metadata names another kind.
    """
    metadata = json.loads((Path(path) / "configs" / "metadata.json").read_text())
    outputs: dict[str, dict[str, Any]] = metadata.get("network_data_format", {}).get("outputs", {})
    first: dict[str, Any] = next(iter(outputs.values()), {})
    output_format = str(first.get("format", "")).lower()
    if output_format not in _KINDS:
        raise ValueError(f"bundle {path}: output format {output_format!r} is none of {', '.join(_KINDS)}.")
    return _KINDS[output_format]


def find_bundles(model_dir: str | os.PathLike[str], models: str = "all") -> dict[str, Path]:
    """The bundles to serve: name -> folder.

    Args:
        model_dir: the app's ``model`` folder.
        models: ``"all"`` or a comma-separated list of bundle folder names (``--conf models ...``).

    Raises:
        FileNotFoundError: when a named bundle is missing, or there is none at all.
    """
    model_dir = Path(model_dir)
    found = (
        {p.name: p for p in sorted(model_dir.iterdir()) if (p / "configs" / "metadata.json").is_file()}
        if model_dir.is_dir()
        else {}
    )
    if models.strip().lower() == "all":
        if not found:
            raise FileNotFoundError(f"no bundle in {model_dir}; write the app with `monai-mammo label-app`.")
        return found
    names = [n.strip() for n in models.split(",") if n.strip()]
    missing = [n for n in names if n not in found]
    if missing or not names:
        raise FileNotFoundError(
            f"bundle(s) {', '.join(missing) or '(none named)'} not in {model_dir}; "
            f"it has: {', '.join(found) or 'none'}."
        )
    return {n: found[n] for n in names}


def single_instance(folder: str | os.PathLike[str], image_id: str) -> str:
    """The one DICOM file of a downloaded series folder (a mammography series holds one image).

    Raises:
        HTTPException: 422 when the series has no file or several (a mammogram is one instance).
    """
    files = sorted(str(p) for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith("."))
    if len(files) != 1:
        raise HTTPException(
            status_code=422,
            detail=f"series {image_id!r} holds {len(files)} instances; a mammogram series holds exactly one.",
        )
    return files[0]


class MammoLabelApp(MONAILabelApp):
    """MONAI Label app serving the monai_mammo bundles found in ``<app_dir>/model``.

    Args:
        app_dir: the app folder.
        studies: a local folder of images, or a DICOMweb URL.
        conf: ``--conf`` options: ``models`` (``all`` or names), ``skip_trainers`` (``true`` to serve only).
    """

    def __init__(self, app_dir: str, studies: str, conf: dict[str, str]) -> None:
        self.model_dir = Path(app_dir) / "model"
        self.bundles = find_bundles(self.model_dir, conf.get("models", "all"))
        self.kinds = {name: bundle_kind(path) for name, path in self.bundles.items()}
        super().__init__(
            app_dir=app_dir,
            studies=studies,
            conf=conf,
            name="monai_mammo",
            description="Mammography lesion segmentation and classification (monai_mammo bundles)",
            version=monai_mammo.__version__,
        )

    def init_datastore(self) -> Datastore:
        """A local folder (DICOM included), or MONAI Label's remote store for an ``http(s)://`` URL.

        For a DICOMweb server the search filter becomes ``{"Modality": "MG"}`` where it is MONAI Label's
        default (``{"Modality": "CT"}``; ``monailabel start_server`` passes every setting on, so an unset one
        cannot be told from a default one), and series are kept as DICOM files: MONAI Label's conversion to
        NIfTI would turn a mammogram into a one-slice volume and drop its laterality, view and spacing tags.
        """
        if self.studies.startswith(("http://", "https://")):
            if settings.MONAI_LABEL_DICOMWEB_SEARCH_FILTER == {"Modality": "CT"}:
                settings.MONAI_LABEL_DICOMWEB_SEARCH_FILTER = {"Modality": "MG"}
            settings.MONAI_LABEL_DICOMWEB_CONVERT_TO_NIFTI = False
            return super().init_datastore()
        extensions = list(dict.fromkeys([*settings.MONAI_LABEL_DATASTORE_FILE_EXT, *DICOM_PATTERNS]))
        return LocalDatastore(
            self.studies,
            extensions=extensions,
            auto_reload=settings.MONAI_LABEL_DATASTORE_AUTO_RELOAD,
            read_only=settings.MONAI_LABEL_DATASTORE_READ_ONLY,
        )

    def _download_dcmqi_tools(self) -> None:
        """Nothing to fetch: MONAI Label downloads dcmqi (for DICOM SEG answers) from GitHub when it opens a
        DICOMweb store, which fails offline; this app answers with PNG/NIfTI masks. Put dcmqi's
        ``itkimage2segimage`` on PATH for ``output=dicom_seg``."""
        if shutil.which("itkimage2segimage") is None:
            logger.info("dcmqi's itkimage2segimage is not on PATH: output=dicom_seg is not available.")

    def init_infers(self) -> dict[str, InferTask]:
        """One infer task per bundle."""
        infers: dict[str, InferTask] = {}
        for name, path in self.bundles.items():
            task_class = (
                MammoSegmentationInfer if self.kinds[name] == "segmentation" else MammoClassificationInfer
            )
            task = task_class(str(path), self.conf)
            if task.is_valid():
                infers[name] = task
            else:
                logger.warning(f"bundle {name} at {path} is not usable for inference (no weights?); skipped.")
        return infers

    def init_trainers(self) -> dict[str, TrainTask]:
        """One train task per bundle (none with ``--conf skip_trainers true``)."""
        if str(self.conf.get("skip_trainers", "false")).lower() in ("true", "1", "yes"):
            return {}
        trainers: dict[str, TrainTask] = {}
        for name, path in self.bundles.items():
            task_class = (
                MammoSegmentationTrain if self.kinds[name] == "segmentation" else MammoClassificationTrain
            )
            task = task_class(str(path), self.conf)
            if task.is_valid():
                trainers[name] = task
        return trainers

    def init_strategies(self) -> dict[str, Strategy]:
        """Active-learning strategies: ``random`` and ``first`` unlabelled image."""
        return {"random": Random(), "first": First()}

    def bundle_path(self, model: str | None) -> str | None:
        """The bundle folder of ``model``; MONAI Label asks it before it starts a training or batch task.

        Raises:
            HTTPException: 404 for a model this server does not have (MONAI Label would otherwise start a
                background task that fails).
        """
        known = {**self._infers, **self._trainers}
        if model and model not in known:
            raise HTTPException(
                status_code=404,
                detail=f"no model {model!r} on this server; it has: {', '.join(sorted(known))}.",
            )
        return super().bundle_path(model)

    def infer(self, request: dict[str, Any], datastore: Datastore | None = None) -> dict[str, Any]:
        """Run an infer task; a request that cannot be served raises an HTTP error with the reason.

        Args:
            request: MONAI Label's infer request (``model``, ``image`` id or file path, options).
            datastore: the datastore (default: the app's).

        Returns:
            MONAI Label's infer result (``label``/``file`` and ``params``).

        Raises:
            HTTPException: 404 for an unknown model or image, 422 for a file that is not a readable mammogram,
                502 when a remote image source fails.
        """
        model = request.get("model")
        if model not in self._infers:
            served = ", ".join(sorted(self._infers)) or "none"
            raise HTTPException(
                status_code=404, detail=f"no model {model!r} on this server; it serves: {served}."
            )
        image = request.get("image")
        if isinstance(image, str) and not os.path.exists(image):
            store = datastore if datastore is not None else self.datastore()
            try:
                uri = store.get_image_uri(image)
            except (LookupError, FileNotFoundError):  # a DICOMweb store that finds no such series
                uri = ""
            except Exception as error:  # the remote store failed
                detail = f"the image source failed to give {image!r}: {type(error).__name__}: {error}"
                raise HTTPException(status_code=502, detail=detail) from error
            if not uri:
                raise HTTPException(status_code=404, detail=f"no image {image!r} in the datastore.")
            if os.path.isdir(uri):  # a DICOMweb series, downloaded as a folder of instances
                request = {**request, "image": single_instance(uri, image), "save_label": False}
        try:
            return super().infer(request, datastore)
        except HTTPException:
            raise
        except Exception as error:
            cause = root_cause(error)
            if isinstance(cause, MammoReadError):
                raise HTTPException(status_code=422, detail=f"{type(cause).__name__}: {cause}") from error
            raise
