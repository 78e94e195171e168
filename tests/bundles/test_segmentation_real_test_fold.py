"""The shipped segmentation weights on the real test folds (DDSM lesion boxes and mini-MIAS, split by woman
exactly as the model card's data step splits them), with the bundle's default evaluation (two scales,
candidates above 0.1): the lesions found at one false positive per image stay near the model card's figures
(DDSM 113 of 168, mini-MIAS 10 of 18 with version 0.4.0), so that new weights or a changed pipeline that
lose lesions fail here before a card is written.

Slow (about 3 minutes on 2 cores): imports both data sets (about 1,100 films; the `real_test_folds` fixture,
once for every test that uses it) and evaluates the 212 test films; run with ``pytest -m slow``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bundle_helpers import bundle_workflow

BUNDLE = Path(__file__).resolve().parents[2] / "bundles" / "mammo_lesion_segmentation"
CONFIGS = BUNDLE / "configs"
SOURCES = ("ddsm_boxes", "mini_mias")


@pytest.fixture(scope="module")
def test_fold_metrics(real_test_folds: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    metrics = {}
    for source in SOURCES:
        out = tmp_path_factory.mktemp(f"eval_{source}")
        workflow = bundle_workflow(
            BUNDLE,
            [str(CONFIGS / "train.json"), str(CONFIGS / "evaluate.json")],
            "eval",
            datalist=str(real_test_folds / f"test_{source}.json"),
            dataset_dir=str(real_test_folds),
            output_dir=str(out),
            n_boot=20,
        )
        workflow.run()
        workflow.finalize()
        metrics[source] = json.loads((out / "metrics.json").read_text())
    return metrics


def lesions_found_at_one_fp(metrics: dict) -> tuple[int, int]:
    """(lesions found at 1 false positive per image, lesions), in integers."""
    n = int(metrics["n_lesions"])
    return round(metrics["froc"]["sensitivity_at_fp_per_image"]["1"] * n), n


@pytest.mark.slow
@pytest.mark.parametrize(
    "source, lesions, at_least",
    [
        # the card's test figures (0.4.0: 113 and 10) less a margin of about 5 %: the 0.3.0 weights found 110
        # and 8 in one pass, the 0.2.0 weights 104 and 9; the 0.1.x weights (72 DDSM lesions) fail
        ("ddsm_boxes", 168, 105),
        ("mini_mias", 18, 8),
    ],
)
def test_shipped_weights_find_the_test_lesions(
    test_fold_metrics: dict[str, dict], source: str, lesions: int, at_least: int
) -> None:
    found, n = lesions_found_at_one_fp(test_fold_metrics[source])
    assert n == lesions, f"{source}: the test fold changed ({n} lesions)"
    assert found >= at_least, f"{source}: {found} of {n} lesions found at 1 FP/image, fewer than {at_least}"
