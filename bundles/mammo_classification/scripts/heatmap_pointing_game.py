"""Does the Grad-CAM peak fall on the annotated lesion? The "pointing game" on the mini-MIAS test fold.

Reads the heat maps an inference run wrote (``<run>/<name>/heatmap.png``, original geometry) and the lesion
circles of mini-MIAS ``Info.txt`` (centre x, y from the bottom-left corner, radius, in pixels of the
1024 x 1024 film), and counts, over the test images with at least one circle:

- **hit**: the heat map's maximum lies inside a lesion circle;
- **chance**: the fraction of the breast (``monai_mammo.transforms.BreastMask``) covered by the circles, i.e.
  the hit rate of a peak placed at random in the breast: the baseline the hit rate must beat.

Usage (after ``inference.json`` over the test images, see the model card)::

    python bundles/mammo_classification/scripts/heatmap_pointing_game.py \\
        --run bundles/mammo_classification/runs/infer_mias_test \\
        --datalist bundles/mammo_classification/runs/train_data/test_mini_mias.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from monai_mammo.data.datasets.mini_mias import read_mias_info
from monai_mammo.transforms import BreastMask

REPO = Path(__file__).resolve().parents[3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="output folder of inference.json")
    parser.add_argument("--datalist", type=Path, required=True, help="the mini-MIAS test datalist")
    parser.add_argument(
        "--info", type=Path, default=REPO.parent / "shared" / "data" / "mini_mias" / "Info.txt"
    )
    args = parser.parse_args()
    rows, _ = read_mias_info(args.info)
    circles: dict[str, list[tuple[float, float, float]]] = {}
    for row in rows:
        if row.x is not None and row.y is not None and row.radius is not None:
            circles.setdefault(row.name, []).append((1024.0 - row.y, row.x, row.radius))
    items = json.loads(args.datalist.read_text())["test"]
    hits, chance, names = [], [], []
    for item in items:
        name = Path(item["image"]).stem
        if name not in circles or not (args.run / name / "heatmap.png").is_file():
            continue
        heat = np.asarray(Image.open(args.run / name / "heatmap.png"), dtype=np.float32)
        image = np.asarray(
            Image.open((args.datalist.parent / item["image"]).resolve()).convert("L"), np.float32
        )
        rr, cc = np.ogrid[: heat.shape[0], : heat.shape[1]]
        lesion = np.zeros(heat.shape, dtype=bool)
        for r, c, radius in circles[name]:
            lesion |= (rr - r) ** 2 + (cc - c) ** 2 <= radius**2
        breast = np.asarray(BreastMask()(image[None]))[0] > 0
        peak = np.unravel_index(int(np.argmax(heat)), heat.shape)
        hits.append(bool(lesion[peak]))
        chance.append(float((lesion & breast).sum() / max(breast.sum(), 1)))
        names.append(name)
    result = {
        "n_images": len(hits),
        "hits": int(sum(hits)),
        "hit_rate": float(np.mean(hits)) if hits else None,
        "chance_rate": float(np.mean(chance)) if chance else None,
        "images": dict(zip(names, hits)),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
