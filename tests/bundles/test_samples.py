"""Each bundle's embedded sample is what its ``scripts/make_sample.py`` writes, byte for byte."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("bundle", ["mammo_lesion_segmentation", "mammo_classification"])
def test_make_sample_reproduces_the_shipped_sample(bundle: str, tmp_path: Path) -> None:
    script = REPO / "bundles" / bundle / "scripts" / "make_sample.py"
    spec = importlib.util.spec_from_file_location(f"{bundle}_make_sample", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_sample(tmp_path)
    shipped = REPO / "bundles" / bundle / "sample"
    names = sorted(p.relative_to(shipped) for p in shipped.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for name in names:
        assert (tmp_path / name).read_bytes() == (shipped / name).read_bytes(), name
