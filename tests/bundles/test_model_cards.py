"""Both model cards use the model-zoo headings, in the zoo's order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BUNDLES = Path(__file__).resolve().parents[2] / "bundles"
ZOO_HEADINGS = [
    "Model Overview",
    "Data",
    "Training configuration",
    "Input",
    "Output",
    "Performance",
    "MONAI Bundle Commands",
    "References",
    "License",
]


@pytest.mark.parametrize("bundle", ["mammo_lesion_segmentation", "mammo_classification"])
def test_model_card_has_the_zoo_headings_in_order(bundle: str) -> None:
    headings = re.findall(r"^## (.+)$", (BUNDLES / bundle / "docs" / "README.md").read_text(), flags=re.M)
    found = [h.strip() for h in headings if h.strip() in ZOO_HEADINGS]
    assert found == ZOO_HEADINGS
