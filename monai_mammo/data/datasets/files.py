"""Finding a data set's files on disk and reading their headers and pixels.

Importers read labels from tables whose paths often do not match the files as downloaded (other folder
names, other file names, Windows separators). :class:`FileIndex` walks a tree once and answers "which files
lie under the folder called X" and "which file has the stem Y". The readers here give stored pixel values
(for masks) and image sizes from headers only (cheap: no pixel decoding).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from monai_mammo.data.errors import MammoReadError, NotDicomError, UnsupportedImageError

IMAGE_SUFFIXES: tuple[str, ...] = (".dcm", ".dicom", ".png", ".pgm", ".tif", ".tiff", ".jpg", ".jpeg")
"""File suffixes treated as images when a tree is indexed."""


def is_dicom(path: str | os.PathLike[str]) -> bool:
    """Whether a file is DICOM: a ``.dcm``/``.dicom`` suffix or the ``DICM`` marker after the preamble.

    Args:
        path: the file.

    Returns:
        ``True`` for a DICOM file.
    """
    path = os.fspath(path)
    if path.lower().endswith((".dcm", ".dicom")):
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError:
        return False
    return head[128:132] == b"DICM"


def read_dicom_header(path: str | os.PathLike[str]):
    """Read a DICOM file's header only (no pixel data).

    Args:
        path: the DICOM file.

    Returns:
        The ``pydicom.Dataset`` without its pixel data.

    Raises:
        NotDicomError: the file is not DICOM.
        MammoReadError: the file cannot be read.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(os.fspath(path), stop_before_pixels=True)
    except InvalidDicomError as e:
        raise NotDicomError(path, f"is not a DICOM file ({e}).") from e
    except Exception as e:  # truncated headers raise several types
        raise MammoReadError(path, f"the DICOM header cannot be read ({type(e).__name__}: {e}).") from e


def image_shape(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(rows, columns) of an image from its header, without decoding the pixels.

    Args:
        path: a DICOM file or an image PIL opens.

    Returns:
        (rows, columns).

    Raises:
        MammoReadError: the file cannot be read or has no image size.
    """
    if is_dicom(path):
        header = read_dicom_header(path)
        rows, cols = header.get("Rows"), header.get("Columns")
        if not rows or not cols:
            raise UnsupportedImageError(path, "has no Rows/Columns in its DICOM header.")
        return int(rows), int(cols)
    from PIL import Image

    try:
        with Image.open(os.fspath(path)) as img:
            width, height = img.size
    except Exception as e:
        raise MammoReadError(path, f"cannot be opened as an image ({type(e).__name__}: {e}).") from e
    return int(height), int(width)


def read_pixels(path: str | os.PathLike[str]) -> np.ndarray:
    """Stored pixel values of a single-frame grey image (DICOM or PIL-readable), no intensity mapping.

    Used for masks, whose values are labels. A colour file gives its first channel.

    Args:
        path: the file.

    Returns:
        2D array (rows, columns).

    Raises:
        MammoReadError: the file cannot be read or is not a single grey frame.
    """
    path = os.fspath(path)
    try:
        if is_dicom(path):
            import pydicom

            pixels = pydicom.dcmread(path).pixel_array
        else:
            from PIL import Image

            with Image.open(path) as img:
                pixels = np.asarray(img)
    except Exception as e:  # pydicom/PIL raise many types: name the file and chain
        raise MammoReadError(path, f"cannot be read as an image ({type(e).__name__}: {e}).") from e
    if pixels.ndim == 3 and pixels.shape[-1] in (3, 4):
        pixels = pixels[..., 0]
    if pixels.ndim != 2:
        raise UnsupportedImageError(
            path, f"is not a single 2D grey frame (pixel array shape {pixels.shape})."
        )
    return pixels


def find_files(
    root: str | os.PathLike[str],
    match: Callable[[str], bool],
    max_depth: int | None = None,
    skip_dir: Callable[[str], bool] | None = None,
) -> Iterator[Path]:
    """The files of a tree whose name ``match`` accepts, root first, then each folder in name order.

    The importers find their label tables with it (the table may sit in the root or a folder or two below).
    A generator: ``next(find_files(...), None)`` stops at the first hit.

    Args:
        root: the tree to walk.
        match: takes a file name, says whether it is wanted.
        max_depth: how many folder levels below ``root`` are looked into (``None``: all).
        skip_dir: takes a folder name, says whether to leave it out (e.g. an image folder of thousands).

    Yields:
        The paths, files of one folder in name order.
    """
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        if max_depth is not None and len(Path(dirpath).relative_to(root).parts) >= max_depth:
            dirnames[:] = []
        dirnames[:] = sorted(d for d in dirnames if skip_dir is None or not skip_dir(d))
        for name in sorted(filenames):
            if match(name):
                yield Path(dirpath) / name


class FileIndex:
    """The image files of a tree, indexed by folder name and by file stem (one walk, then lookups).

    Args:
        root: the tree to walk.
        suffixes: file suffixes to index (lower case).
    """

    def __init__(self, root: str | os.PathLike[str], suffixes: Iterable[str] = IMAGE_SUFFIXES) -> None:
        self.root = Path(root)
        suffixes = tuple(s.lower() for s in suffixes)
        self.files: list[Path] = []
        self._by_stem: dict[str, list[Path]] = defaultdict(list)
        self._by_dir: dict[str, list[Path]] = defaultdict(list)
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            for name in sorted(filenames):
                if name.startswith(".") or not name.lower().endswith(suffixes):
                    continue
                path = Path(dirpath) / name
                self.files.append(path)
                self._by_stem[path.stem.lower()].append(path)
                for part in path.relative_to(self.root).parts[:-1]:
                    self._by_dir[part.lower()].append(path)

    def by_stem(self, stem: str) -> list[Path]:
        """Files whose name without suffix is ``stem`` (case-insensitive)."""
        return list(self._by_stem.get(stem.lower(), []))

    def under(self, folder_name: str) -> list[Path]:
        """Files below any folder called ``folder_name`` (case-insensitive), sorted."""
        return sorted(set(self._by_dir.get(folder_name.lower(), [])))

    def __len__(self) -> int:
        return len(self.files)


class ImageLocator:
    """Where the image a table row names is: at the path the data set's layout says, else the first file
    with its stem anywhere below the image folder (the :class:`FileIndex` is built on the first miss, so a
    tree laid out as documented is never walked).

    Args:
        images: the image folder.
        root: the tree to index instead when ``images`` is not a folder.
    """

    def __init__(self, images: str | os.PathLike[str], root: str | os.PathLike[str]) -> None:
        self.images, self.root = Path(images), Path(root)
        self._index: FileIndex | None = None

    def find(self, expected: Path, *stems: str) -> Path | None:
        """``expected`` if it is a file, else the first file with one of ``stems`` (in order), else None."""
        if expected.is_file():
            return expected
        if self._index is None:
            self._index = FileIndex(self.images if self.images.is_dir() else self.root)
        for stem in stems:
            found = self._index.by_stem(stem)
            if found:
                return found[0]
        return None


__all__ = [
    "IMAGE_SUFFIXES",
    "FileIndex",
    "ImageLocator",
    "find_files",
    "image_shape",
    "is_dicom",
    "read_dicom_header",
    "read_pixels",
]
