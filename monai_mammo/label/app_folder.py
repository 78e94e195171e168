"""Write a MONAI Label app folder that serves the monai_mammo bundles.

``monailabel start_server --app DIR`` wants ``DIR/main.py`` (a :class:`MONAILabelApp` subclass) and, by
convention, the models under ``DIR/model/<name>/``. :func:`write_label_app` writes both: a two-line
``main.py`` that imports :class:`monai_mammo.label.app.MammoLabelApp`, and a copy of each bundle (configs,
weights, model card, licence; not its run or evaluation folders). The app trains its own copy, so training
through MONAI Label never overwrites the weights shipped with the repository.

Nothing here imports MONAI Label: the folder can be written from any environment.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from monai_mammo.bundle.distribution import copy_bundle_parts
from monai_mammo.bundle.paths import locate_bundle_root

__all__ = ["BUNDLE_NAMES", "write_label_app"]

BUNDLE_NAMES = ("mammo_lesion_segmentation", "mammo_classification")
"""The bundles the app serves by default (those found are copied)."""

_BUNDLE_PARTS = ("configs", "models", "docs", "LICENSE")
"""What of a bundle the app needs (its ``sample``, ``runs`` and ``eval`` folders stay behind)."""

MAIN_PY = '''"""The MONAI Label app of monai_mammo (``monai-mammo label-app``); the bundles are in model/."""

# MONAI Label serves the MONAILabelApp subclass it finds in this module
from monai_mammo.label.app import MammoLabelApp  # noqa: F401
'''


def _bundle_sources(
    names: Sequence[str] | None, bundles_dir: str | os.PathLike[str] | None
) -> dict[str, Path]:
    wanted = tuple(names) if names else BUNDLE_NAMES
    sources: dict[str, Path] = {}
    for name in wanted:
        if bundles_dir is not None:
            folder = Path(bundles_dir) / name
            if not (folder / "configs" / "metadata.json").is_file():
                if names:
                    raise FileNotFoundError(
                        f"bundle {name!r} not found in {bundles_dir} (no configs/metadata.json)."
                    )
                continue
        else:
            try:
                folder = Path(locate_bundle_root(name))
            except FileNotFoundError:
                if names:
                    raise
                continue
        sources[name] = folder
    if not sources:
        raise FileNotFoundError(f"none of the bundles {', '.join(wanted)} was found; pass bundles_dir.")
    return sources


def write_label_app(
    app_dir: str | os.PathLike[str],
    names: Sequence[str] | None = None,
    bundles_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a MONAI Label app folder with ``main.py`` and a copy of each bundle under ``model/``.

    The folder is assembled under a temporary name beside ``app_dir`` and renamed into place, so an
    interrupted call leaves no half-written app.

    Args:
        app_dir: the app folder to create.
        names: bundle folder names to serve (default: every one of :data:`BUNDLE_NAMES` that is found).
        bundles_dir: the folder holding the bundles (default: found like ``locate_bundle_root``: the working
            folder's ``bundles/``, else the source checkout's).
        overwrite: replace an existing ``app_dir``.

    Returns:
        The app folder.

    Raises:
        FileExistsError: when ``app_dir`` exists and ``overwrite`` is false.
        FileNotFoundError: when a named bundle (or, without names, every bundle) is missing.
    """
    app_dir = Path(app_dir)
    if app_dir.exists() and not overwrite:
        raise FileExistsError(f"{app_dir} exists; pass overwrite=True (--overwrite) to replace it.")
    sources = _bundle_sources(names, bundles_dir)
    app_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{app_dir.name}.", dir=app_dir.parent))
    try:
        (staging / "main.py").write_text(MAIN_PY)
        for name, source in sources.items():
            copy_bundle_parts(source, staging / "model" / name, _BUNDLE_PARTS)
        if app_dir.exists():
            shutil.rmtree(app_dir)
        os.replace(staging, app_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return app_dir
