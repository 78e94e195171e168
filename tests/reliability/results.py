"""Where the reliability tests record their figures (counts, timings) for docs/reliability.md."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RESULT_FILE = os.environ.get("MONAI_MAMMO_RELIABILITY_RESULTS")
"""A path; each test writes ``<path without suffix>.<name>.json`` beside it (as test_kill_and_resume does)."""


def record(name: str, figures: dict[str, Any]) -> Path | None:
    """Write ``figures`` to ``<stem>.<name>.json`` beside ``MONAI_MAMMO_RELIABILITY_RESULTS``, if it is set.

    Args:
        name: the file's middle name (``corpus``, ``fuzz_dicom``, ...).
        figures: JSON-serialisable figures.

    Returns:
        The file written, or ``None`` when the variable is not set.
    """
    if not RESULT_FILE:
        return None
    path = Path(RESULT_FILE).with_suffix(f".{name}.json")
    path.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    return path
