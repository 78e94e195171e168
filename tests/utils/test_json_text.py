"""strict_json / strict_json_text: NaN and infinities become null, numpy values plain Python, and the text
parses with a parser that refuses NaN."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from monai_mammo.utils.json_text import strict_json, strict_json_text


def strict_loads(text: str) -> object:
    """``json.loads`` that refuses ``NaN``, ``Infinity`` and ``-Infinity`` (as RFC 8259 parsers do)."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_strict_json_replaces_nan() -> None:
    assert strict_json({"a": [float("nan"), 1.0, np.float32(2.0)], "b": float("inf")}) == {
        "a": [None, 1.0, 2.0],
        "b": None,
    }


def test_numpy_values_become_python_values() -> None:
    value = {"n": np.int64(3), "ok": np.bool_(True), "v": np.array([1.5, np.nan, -np.inf]), "t": (1, "x")}
    out = strict_json(value)
    assert out == {"n": 3, "ok": True, "v": [1.5, None, None], "t": [1, "x"]}
    assert type(out["n"]) is int and type(out["ok"]) is bool


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float32("nan")])
def test_text_is_strict_json(bad: float) -> None:
    assert "NaN" in json.dumps({"x": float(bad)}) or "Infinity" in json.dumps({"x": float(bad)})
    text = strict_json_text({"x": bad, "y": [bad, 1]})
    assert strict_loads(text) == {"x": None, "y": [None, 1]}


def test_default_converts_and_its_result_is_strict_too(tmp_path: Path) -> None:
    class Odd:
        def __float__(self) -> float:
            return math.nan

    assert strict_loads(strict_json_text({"p": tmp_path}, default=str)) == {"p": str(tmp_path)}
    assert strict_loads(strict_json_text({"odd": Odd()}, default=float)) == {"odd": None}
    with pytest.raises(TypeError):
        strict_json_text({"odd": Odd()})
