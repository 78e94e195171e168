"""Reading the importers' CSV tables: rows as text, columns found by name, numbers and list cells parsed."""

from __future__ import annotations

import ast
import csv
import math
import os
from collections.abc import Sequence

from monai_mammo.data.datasets.records import DatasetLayoutError


def read_csv_rows(
    path: str | os.PathLike[str], required: Sequence[str] = ()
) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a CSV table, every cell as stripped text (missing cells ``""``).

    Args:
        path: the table (UTF-8, with or without a byte-order mark).
        required: columns that must be present (case-insensitive).

    Returns:
        ``(columns, rows)``: the header as written; each row a ``column -> text`` dictionary.

    Raises:
        DatasetLayoutError: the file cannot be read, or lacks a required column (named, with the header).
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = [str(c).strip() for c in reader.fieldnames or []]
            rows = [
                {str(k).strip(): str(v or "").strip() for k, v in row.items() if k is not None}
                for row in reader
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DatasetLayoutError(f"{path}: cannot be read as a CSV table ({type(e).__name__}: {e}).") from e
    missing = [c for c in required if find_column(columns, (c,)) is None]
    if missing:
        raise DatasetLayoutError(
            f"{path}: missing column(s) {', '.join(missing)} (has {', '.join(columns) or 'none'})."
        )
    return columns, rows


def find_column(columns: Sequence[str], candidates: Sequence[str]) -> str | None:
    """The first of ``candidates`` that ``columns`` holds (case-insensitive), as the header spells it."""
    by_lower = {c.lower(): c for c in columns}
    for candidate in candidates:
        if candidate.lower() in by_lower:
            return by_lower[candidate.lower()]
    return None


def parse_number(text: object) -> float | None:
    """A cell as a number, or ``None`` when it is empty, not a number, or NaN."""
    try:
        number = float(str(text).strip())
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def parse_list_cell(text: object) -> list[str]:
    """A cell holding a Python-style list (``"['Mass', 'Architectural Distortion']"``) or one value.

    Returns:
        The stripped, non-empty entries (``[]`` for an empty cell).
    """
    text = str(text if text is not None else "").strip()
    if not text:
        return []
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        parsed = [text]
    if isinstance(parsed, (str, int, float)):
        parsed = [parsed]
    return [str(c).strip() for c in parsed if str(c).strip()]


__all__ = ["find_column", "parse_list_cell", "parse_number", "read_csv_rows"]
