"""The inferers are built on MONAI's public API: no module imports a private name from a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import monai_mammo.inferers

MODULES = sorted(Path(monai_mammo.inferers.__file__).parent.glob("*.py"))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_imports(source: str) -> list[str]:
    """``from x import _y``, ``from x._y import z`` and ``import x._y`` for any ``x`` but this package."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] == "monai_mammo":
                continue
            if any(_is_private(p) for p in node.module.split(".")):
                found.append(f"from {node.module} import ...")
            found += [f"from {node.module} import {a.name}" for a in node.names if _is_private(a.name)]
        elif isinstance(node, ast.Import):
            found += [
                f"import {a.name}"
                for a in node.names
                if a.name.split(".")[0] != "monai_mammo" and any(_is_private(p) for p in a.name.split("."))
            ]
    return found


def test_the_check_finds_private_imports():
    source = "\n".join(
        [
            "from monai.inferers.utils import _get_scan_interval, dense",
            "import torch._C",
            "from a._b import c",
        ]
    )
    assert _private_imports(source) == [
        "from monai.inferers.utils import _get_scan_interval",
        "import torch._C",
        "from a._b import ...",
    ]
    ours = "from __future__ import annotations\nfrom monai_mammo.x import _y\nfrom .z import _w\n"
    assert _private_imports(ours) == []


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_no_private_names_imported_from_dependencies(module):
    assert _private_imports(module.read_text()) == []
