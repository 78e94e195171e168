"""Where a bundle is and what it reads: the bundle root from any working folder, the images of a folder.

MONAI's config parser does not tell a config where its own file is, so model-zoo bundles set
``"bundle_root": "."`` and must be run from their folder. :func:`locate_bundle_root` lets a monai_mammo
bundle run from anywhere: it reads the ``--config_file`` of the ``python -m monai.bundle`` command line, and
otherwise looks at the working folder, a source checkout and the copy installed with the package (the wheel
carries both bundles as ``monai_mammo/bundles_data/<name>``); ``--bundle_root <path>`` on the command line
still overrides it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from monai_mammo.bundle.command_line import bundle_command_config_files

__all__ = ["IMAGE_SUFFIXES", "installed_bundles_dir", "list_images", "locate_bundle_root"]

IMAGE_SUFFIXES = (".dcm", ".dicom", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pgm", ".nii", ".nii.gz")
"""File name endings :func:`list_images` picks up (case-insensitive)."""


def _is_bundle(folder: Path) -> bool:
    return (folder / "configs" / "metadata.json").is_file()


def installed_bundles_dir() -> Path:
    """The folder of the bundles installed with the package (``monai_mammo/bundles_data``).

    A wheel carries each bundle there, unpacked (configs, models, docs, LICENSE, sample, scripts) with the
    metadata schema under ``schema/``; an editable install maps ``monai_mammo.bundles_data`` onto the
    checkout's ``bundles/`` instead, so this folder exists only in a non-editable install.
    """
    return Path(__file__).resolve().parents[1] / "bundles_data"


def _config_file_bundle(name: str, argv: Sequence[str] | None) -> Path | None:
    """The bundle folder of the first ``--config_file`` of this ``python -m monai.bundle`` command, if that
    folder is bundle ``name`` (a folder called ``name`` holding ``configs/metadata.json``)."""
    try:
        files = bundle_command_config_files(argv)
    except (OSError, ValueError):  # an unreadable --args_file: MONAI itself reports it
        return None
    if not files:
        return None
    configs = Path(files[0]).resolve().parent
    folder = configs.parent if configs.name == "configs" else configs  # as MONAI's ConfigWorkflow
    return folder if folder.name == name and _is_bundle(folder) else None


def locate_bundle_root(
    name: str, start: str | os.PathLike[str] | None = None, argv: Sequence[str] | None = None
) -> str:
    """The folder of bundle ``name``: the one whose config is being run, else found from the working folder.

    Looks, in order, at: the bundle folder of the ``--config_file`` of a ``python -m monai.bundle ...``
    command line, when that folder is named ``name`` (a copy from ``monai-mammo bundle get``, an unpacked
    release archive, the installed copy: each runs its own files; only without ``start``); the working
    folder itself when it is named ``name`` and holds ``configs/metadata.json`` (run from the bundle's
    folder); ``./bundles/<name>`` (run from the repository root); ``<source checkout>/bundles/<name>``
    beside the imported ``monai_mammo`` package (editable installs); the copy installed with the package
    (:func:`installed_bundles_dir`, a wheel install).

    Args:
        name: the bundle's folder name, e.g. ``"mammo_lesion_segmentation"``.
        start: the folder to start from (default: the current working folder, after the command line).
        argv: the command line to read ``--config_file`` from (default: ``sys.argv``).

    Returns:
        The bundle folder, as a string.

    Raises:
        FileNotFoundError: when none of those places holds the bundle; pass ``--bundle_root`` then.
    """
    if start is None:
        own = _config_file_bundle(name, argv)
        if own is not None:
            return str(own)
    cwd = Path(start) if start is not None else Path.cwd()
    candidates = []
    if cwd.name == name:
        candidates.append(cwd)
    candidates.append(cwd / "bundles" / name)
    candidates.append(Path(__file__).resolve().parents[2] / "bundles" / name)
    candidates.append(installed_bundles_dir() / name)
    for folder in candidates:
        if _is_bundle(folder):
            return str(folder)
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"bundle {name!r} not found (looked at {tried}); run from the bundle's folder or the repository "
        "root, or pass --bundle_root <path to the bundle>."
    )


def list_images(folder: str | os.PathLike[str], recursive: bool = True) -> list[str]:
    """The image files in ``folder`` (by :data:`IMAGE_SUFFIXES`), sorted; hidden files are skipped.

    A symbolic link whose target is missing is listed too, so that the run reports it
    (``FileNotFoundError`` in ``failures.json``) instead of skipping it silently. ``folder`` may also be
    one file (``--dataset_dir scan.dcm``): that file is the list, whatever its suffix, so that the reader
    says what is wrong with it if anything is.

    Args:
        folder: the folder to list, or one image file.
        recursive: include sub-folders.

    Returns:
        The file paths, as strings.

    Raises:
        FileNotFoundError: when ``folder`` is neither a folder nor a file.
    """
    root = Path(folder)
    if root.is_file():
        return [str(root)]
    if not root.is_dir():
        raise FileNotFoundError(
            f"input {str(root)!r} does not exist (set --dataset_dir to a folder of mammograms or one image)."
        )
    paths = root.rglob("*") if recursive else root.glob("*")
    found = [
        p
        for p in paths
        if (p.is_file() or (p.is_symlink() and not p.exists()))
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and p.name.lower().endswith(IMAGE_SUFFIXES)
    ]
    return [str(p) for p in sorted(found)]
