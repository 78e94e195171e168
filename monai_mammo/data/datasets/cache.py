"""Draw lesion masks and (optionally) decode, resize and cache the images, in parallel and resumably.

For each :class:`~monai_mammo.data.datasets.records.ImageRecord` one task runs (in a process pool when
``workers > 1``, with a ``tqdm`` progress bar):

- with ``cache_images``: the image is decoded once (VOI window of the DICOM file where it has one, else
  its full range; MONOCHROME1 inverted; see :func:`decode_image`), resized to ``size`` if given
  (``area`` interpolation via :class:`monai.transforms.Resize`) and written as a **16-bit grey PNG** whose
  values 0..65535 stand for intensities 0..1. PNG is lossless, smaller than the raw 16-bit pixels (38 %
  for a CBIS-DDSM film at 1024 x 832), viewable, and read by
  :class:`~monai_mammo.data.MammoImageReader` or MONAI's ``PILReader(reverse_indexing=False)``, so
  training reads a small file instead of decoding a 30-60 MB DICOM every epoch;
- the lesion mask is drawn at the image's own size (merging and, where needed, nearest-neighbour resizing
  mask files), resized with nearest-neighbour to ``size`` if given, and written as an 8-bit PNG of 0/1.

Every output is written atomically (temporary file, then ``os.replace``), and a small JSON "sidecar" per
image is written last: a task whose sidecar exists, matches the task's fingerprint (source path, size and
modification time, mask description, settings) and whose outputs exist is skipped, so an interrupted run
resumes where it stopped. A file that cannot be read or drawn is recorded as a failure and the run goes on.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from monai_mammo.data.datasets.files import image_shape, is_dicom
from monai_mammo.data.datasets.masks import MaskSpec, resize_nearest
from monai_mammo.data.datasets.records import ImageRecord
from monai_mammo.data.errors import BlankImageError, MammoReadError
from monai_mammo.io import atomic_write_bytes
from monai_mammo.utils.json_text import strict_json_text

CACHE_FORMAT = 1
"""Version of the cache layout; a cache folder written by another version is refused."""

PNG16_MAX = 65535


class CacheError(ValueError):
    """A cache folder cannot be used (written with other settings)."""


@dataclass(frozen=True)
class CacheTask:
    """One image's work (picklable, sent to a worker process).

    Attributes:
        key: the record key (names the output files).
        image: the source image.
        mask: the lesion mask description, or ``None``.
        boxes: lesion boxes in source pixels, or ``None``.
        files_dir: the folder receiving ``images/``, ``masks/`` and ``meta/``.
        cache_image: decode and write the image.
        size: (rows, columns) to resize to, or ``None`` for the source size.
    """

    key: str
    image: str
    mask: MaskSpec | None
    boxes: tuple[tuple[float, ...], ...] | None
    files_dir: str
    cache_image: bool
    size: tuple[int, int] | None

    def fingerprint(self) -> str:
        """A hash of everything the outputs depend on."""
        try:
            stat = os.stat(self.image)
            source = [self.image, stat.st_size, int(stat.st_mtime)]
        except OSError:
            source = [self.image, None, None]
        payload = {
            "format": CACHE_FORMAT,
            "source": source,
            "mask": self.mask.describe() if self.mask is not None else None,
            "cache_image": self.cache_image,
            "size": list(self.size) if self.size else None,
        }
        return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    @property
    def image_out(self) -> Path:
        return Path(self.files_dir) / "images" / f"{self.key}.png"

    @property
    def mask_out(self) -> Path:
        return Path(self.files_dir) / "masks" / f"{self.key}.png"

    @property
    def meta_out(self) -> Path:
        return Path(self.files_dir) / "meta" / f"{self.key}.json"


_READERS: dict[str, Any] = {}


def _reader(dicom: bool) -> Any:
    """This process's reader instance (``MammoDicomReader`` or ``MammoImageReader``, VOI window mode)."""
    kind = "dicom" if dicom else "image"
    if kind not in _READERS:
        from monai_mammo.data import MammoDicomReader, MammoImageReader
        from monai_mammo.utils.enums import VoiMode

        _READERS[kind] = (
            MammoDicomReader(voi=VoiMode.WINDOW)
            if dicom
            else MammoImageReader(voi=VoiMode.WINDOW, infer_laterality=False)
        )
    return _READERS[kind]


def decode_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a mammogram to a ``float32`` (rows, columns) array of intensities in [0, 1].

    DICOM files are read by :class:`~monai_mammo.data.MammoDicomReader` in ``VoiMode.WINDOW`` (the file's
    VOI LUT or first window, else its full range; MONOCHROME1 inverted), other images by
    :class:`~monai_mammo.data.MammoImageReader` (full range); the same readers a training pipeline uses.

    Args:
        path: a DICOM file or a PNG/TIFF/PGM/JPEG image.

    Returns:
        (rows, columns) float32 in [0, 1].

    Raises:
        MammoReadError: the file cannot be decoded (or one of its subclasses); ``BlankImageError`` when
            every pixel has the same value (an all-black film holds no breast to train on).
    """
    path = os.fspath(path)
    try:
        image, _ = _reader(is_dicom(path)).load(path)
    except MammoReadError:
        raise
    except Exception as e:  # e.g. FileNotFoundError, decoder errors: name the file, keep the cause
        raise MammoReadError(path, f"cannot be decoded ({type(e).__name__}: {e}).") from e
    array = np.asarray(image, dtype=np.float32)
    lo, hi = float(array.min()), float(array.max())
    if hi <= lo:
        raise BlankImageError(
            path, f"is blank: every pixel is {lo:g}; there is no breast to import.", "leave the file out."
        )
    return array.reshape(array.shape[-2:])


def resize_image(image: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Resize a 2D intensity image with :class:`monai.transforms.Resize` (``area`` when shrinking).

    Args:
        image: (rows, columns) float array.
        size: (rows, columns) wanted.

    Returns:
        The resized float32 array.
    """
    if tuple(image.shape) == tuple(size):
        return image.astype(np.float32)
    import torch
    from monai.transforms import Resize

    shrinking = size[0] <= image.shape[0] and size[1] <= image.shape[1]
    resize = Resize(spatial_size=tuple(int(s) for s in size), mode="area" if shrinking else "bilinear")
    out = resize(torch.from_numpy(image[None].astype(np.float32)))
    return np.asarray(out, dtype=np.float32)[0]


def _png_bytes(array: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _outputs_exist(meta: dict[str, Any]) -> bool:
    return all(os.path.exists(meta[key]) for key in ("image", "label") if meta.get(key))


def run_task(task: CacheTask) -> dict[str, Any]:
    """Do one image's work (or find it done); never raises for a bad file.

    Args:
        task: the work.

    Returns:
        The sidecar dictionary: ``ok``, ``key``, ``image`` (cached image or ``None``), ``label`` (mask or
        ``None``), ``original_size``, ``size``, ``boxes`` (scaled to ``size``), ``notes``, ``resumed``; or
        ``ok: False`` with ``error`` and ``error_type``.
    """
    fingerprint = task.fingerprint()
    if task.meta_out.is_file():
        try:
            previous = json.loads(task.meta_out.read_text())
            if previous.get("fingerprint") == fingerprint and _outputs_exist(previous):
                return {**previous, "resumed": True}
        except (OSError, json.JSONDecodeError):
            pass
    try:
        image = None
        if task.cache_image:
            image = decode_image(task.image)
            original = (int(image.shape[0]), int(image.shape[1]))
        else:
            original = image_shape(task.image)
        size = tuple(int(s) for s in task.size) if task.size else original
        notes: list[str] = []
        meta: dict[str, Any] = {
            "ok": True,
            "key": task.key,
            "source": task.image,
            "fingerprint": fingerprint,
            "image": None,
            "label": None,
            "original_size": list(original),
            "size": list(size),
            "boxes": None,
            "notes": notes,
        }
        if image is not None:
            image = resize_image(image, size)
            pixels = np.round(np.clip(image, 0.0, 1.0) * PNG16_MAX).astype(np.uint16)
            atomic_write_bytes(task.image_out, _png_bytes(pixels))
            meta["image"] = str(task.image_out)
        if task.mask is not None:
            mask, mask_notes = task.mask.render(original)
            notes.extend(mask_notes)
            if tuple(size) != tuple(original):
                mask = resize_nearest(mask, size)
            atomic_write_bytes(task.mask_out, _png_bytes(mask.astype(np.uint8)))
            meta["label"] = str(task.mask_out)
        if task.boxes is not None:
            sy, sx = size[0] / original[0], size[1] / original[1]
            meta["boxes"] = [[b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy] for b in task.boxes]
        atomic_write_bytes(task.meta_out, strict_json_text(meta, indent=1).encode("utf-8"))
        return {**meta, "resumed": False}
    except Exception as e:  # a batch job records the failure and goes on (never fatal)
        return {
            "ok": False,
            "key": task.key,
            "source": task.image,
            "error": str(e),
            "error_type": type(e).__name__,
        }


def _init_worker() -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass


def check_settings(files_dir: str | os.PathLike[str], settings: dict[str, Any]) -> None:
    """Write the cache settings, or refuse a folder written with other settings.

    Args:
        files_dir: the cache folder of one data set.
        settings: the settings of this run (JSON-serialisable).

    Raises:
        CacheError: the folder holds outputs of other settings.
    """
    path = Path(files_dir) / "settings.json"
    settings = {"format": CACHE_FORMAT, **settings}
    if path.is_file():
        try:
            previous = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            previous = None
        if previous is not None and previous != settings:
            raise CacheError(
                f"{files_dir} holds files written with other settings ({previous}); this run uses "
                f"{settings}. "
                "Fix: choose another --cache folder, or delete this one."
            )
    atomic_write_bytes(path, strict_json_text(settings, indent=1).encode("utf-8"))


def materialize(
    records: Sequence[ImageRecord],
    files_dir: str | os.PathLike[str],
    cache_images: bool = False,
    size: Sequence[int] | None = None,
    workers: int = 2,
    progress: bool = True,
    description: str = "preparing",
) -> dict[str, dict[str, Any]]:
    """Run the per-image work for the records that need it (mask drawing and/or image caching).

    Records without a mask and without boxes need nothing when images are not cached, and are not run.

    Args:
        records: the images.
        files_dir: output folder (``images/``, ``masks/``, ``meta/``, ``settings.json``).
        cache_images: decode, resize and write the images.
        size: (rows, columns) of the cached images and masks, or ``None`` for the source size (images are
            only resized when cached: without ``cache_images`` a size is refused).
        workers: parallel processes (``<= 1``: in this process).
        progress: show a progress bar.
        description: the progress bar's label.

    Returns:
        key -> the result of :func:`run_task` for the records that were run.

    Raises:
        CacheError: the folder was written with other settings.
        ValueError: a size without ``cache_images``, or a bad size.
    """
    if size is not None:
        if not cache_images:
            raise ValueError(
                "size needs cache_images=True: the datalist would point at images of another size."
            )
        if len(size) != 2 or any(int(s) < 1 for s in size):
            raise ValueError(f"size must be two positive integers (rows, columns), got {size!r}.")
    size_t = (int(size[0]), int(size[1])) if size is not None else None
    tasks = [
        CacheTask(
            key=r.key,
            image=r.image,
            mask=r.mask,
            boxes=tuple(tuple(float(v) for v in b) for b in r.boxes) if r.boxes is not None else None,
            files_dir=os.fspath(files_dir),
            cache_image=cache_images,
            size=size_t,
        )
        for r in records
        if cache_images or r.mask is not None or (r.boxes is not None and size_t is not None)
    ]
    if not tasks:
        return {}
    check_settings(files_dir, {"cache_images": cache_images, "size": list(size_t) if size_t else None})
    from tqdm.auto import tqdm

    results: dict[str, dict[str, Any]] = {}
    bar = tqdm(total=len(tasks), desc=description, unit="img", disable=not progress)
    try:
        if workers <= 1 or len(tasks) == 1:
            for task in tasks:
                results[task.key] = run_task(task)
                bar.update(1)
        else:
            _run_pool(tasks, workers, results, bar.update)
    finally:
        bar.close()
    return results


def _run_pool(
    tasks: Sequence[CacheTask], workers: int, results: dict[str, dict[str, Any]], tick: Callable[[int], Any]
) -> None:
    # the platform's default start method, as torch's DataLoader uses; workers run torch single-threaded
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
        futures: dict[Future, CacheTask] = {pool.submit(run_task, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                results[task.key] = future.result()
            except BrokenProcessPool as e:  # a worker died (e.g. out of memory): record, go on
                results[task.key] = {
                    "ok": False,
                    "key": task.key,
                    "source": task.image,
                    "error": f"worker process died ({e})",
                    "error_type": type(e).__name__,
                }
            tick(1)


__all__ = [
    "CACHE_FORMAT",
    "CacheError",
    "CacheTask",
    "check_settings",
    "decode_image",
    "materialize",
    "resize_image",
    "run_task",
]
