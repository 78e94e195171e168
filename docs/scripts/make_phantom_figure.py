"""Draw the phantom preview of docs/phantom.md: docs/_static/phantom_cc_mlo.png.

Top row: the four screening views of one phantom woman (L-CC, L-MLO, R-CC, R-MLO), lesion masks outlined
in red. Bottom row: the four lesion kinds at full resolution (crops of a 4096 x 3328 phantom).

Run from the repository root::

    python docs/scripts/make_phantom_figure.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

from monai_mammo.data.phantom import LesionSpec, make_exam, make_phantom

LESIONS = [
    LesionSpec(
        kind="mass", pathology="malignant", margin="spiculated", radius_mm=8.0, depth=0.45, angle=-0.35
    ),
    LesionSpec(kind="mass", pathology="benign", margin="circumscribed", radius_mm=7.0, depth=0.5, angle=0.4),
    LesionSpec(kind="calcification", pathology="malignant", radius_mm=5.0, n_calcifications=18, depth=0.65),
    LesionSpec(kind="calcification", pathology="benign", radius_mm=4.0, depth=0.3, angle=0.1),
]
TILE = (384, 312)  # rows, columns of each view in the figure
CROP_MM = 40.0  # side of the zoomed crops


def _grey(image: np.ndarray) -> np.ndarray:
    return np.clip(image.astype(np.float32) / 4095.0 * 255.0, 0, 255).astype(np.uint8)


def _outlined(image: np.ndarray, mask: np.ndarray, width: int) -> np.ndarray:
    rgb = np.repeat(_grey(image)[..., None], 3, axis=2)
    inside = mask.astype(bool)
    edge = inside & ~ndi.binary_erosion(inside, iterations=width)
    rgb[edge] = (230, 40, 40)
    return rgb


def _label(tile: Image.Image, text: str) -> Image.Image:
    ImageDraw.Draw(tile).text((6, 4), text, fill=(255, 230, 90))
    return tile


def make_figure(out: Path, seed: int = 21) -> Path:
    """Write the preview PNG and return its path."""
    views = make_exam((1536, 1248), seed=seed, density="C", lesions=LESIONS)
    top = []
    for phantom in views:
        rgb = _outlined(phantom.image, phantom.lesion_mask, width=3)
        tile = Image.fromarray(rgb).resize((TILE[1], TILE[0]), Image.LANCZOS)
        top.append(_label(tile, f"{phantom.laterality.value}-{phantom.view.value}  class {phantom.label}"))
    full = make_phantom((4096, 3328), seed=seed, laterality="L", view="CC", density="B", lesions=LESIONS)
    bottom = []
    half = int(CROP_MM / full.pixel_spacing[0] / 2)
    for record in full.lesions:
        r, c = (int(round(v)) for v in record.centre)
        r0, c0 = max(r - half, 0), max(c - half, 0)
        crop = full.image[r0 : r0 + 2 * half, c0 : c0 + 2 * half]
        tile = Image.fromarray(_grey(crop)).convert("RGB").resize((TILE[1], TILE[1]), Image.LANCZOS)
        name = f"{record.margin} mass" if record.kind == "mass" else "calcifications"
        bottom.append(_label(tile, f"{name}, {record.pathology} ({CROP_MM:.0f} mm)"))
    width = 4 * TILE[1]
    canvas = Image.new("RGB", (width, TILE[0] + TILE[1]), (0, 0, 0))
    for k, tile in enumerate(top):
        canvas.paste(tile, (k * TILE[1], 0))
    for k, tile in enumerate(bottom):
        canvas.paste(tile, (k * TILE[1], TILE[0]))
    out.parent.mkdir(parents=True, exist_ok=True)
    # A fixed palette (grey ramp, outline red, label yellow) keeps the PNG small without tinting the greys.
    palette = Image.new("P", (1, 1))
    greys = [v for g in np.linspace(0, 255, 126).astype(int) for v in (g, g, g)]
    palette.putpalette(greys + [230, 40, 40, 255, 230, 90] + [0, 0, 0] * 128)
    canvas.quantize(palette=palette, dither=Image.Dither.NONE).save(out, optimize=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1] / "_static" / "phantom_cc_mlo.png"
    parser.add_argument("--out", type=Path, default=default)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    path = make_figure(args.out, args.seed)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
