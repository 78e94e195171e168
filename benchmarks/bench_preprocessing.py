"""Full mammography preprocessing chain vs the plain-MONAI chain a user writes today, side by side.

Both chains turn a full-field DICOM mammogram into a ``(1, 1024, 832)`` float32 training image:

- plain MONAI: ``LoadImaged(PydicomReader)`` -> ``EnsureChannelFirstd`` -> ``ScaleIntensityRangePercentilesd``
  (0.5/99.5) -> ``Resized(1024, 832)`` -> ``RandFlipd`` -> ``RandAffined``;
- monai_mammo: ``LoadImaged(MammoDicomReader(voi="raw"))`` -> ``BreastMaskd`` -> ``CropBreastd`` ->
  ``Resized(1024, 832)`` (image and breast mask) -> ``CanonicalLateralityd`` -> ``BreastPercentileScaled``
  (0.5/99.5 inside the breast) -> ``RandFlipd`` (up-down: a left-right flip would undo the canonical side)
  -> ``RandAffined`` (image and mask); it also returns the breast mask and the undo record.

The monai_mammo chain does more (breast mask, canonical side, breast-only statistics) yet touches each
full-resolution pixel only a few times: it crops to the breast and resizes before every other step, flips
the small image, and takes percentiles by selection instead of ``torch.quantile``'s full sort.

Each chain runs in its own subprocess (same imports, same inputs, same random augmentation parameters):
one untimed warm-up image, then ``--epochs`` passes over the inputs. Reported: images/s (median over
images of the per-image wall time, and total), the peak resident memory of the subprocess
(``ru_maxrss``) and its increase over the memory after imports and warm-up, and per-step medians.

Inputs: the 4 real full-field CBIS-DDSM DICOMs (``../shared/data/cbis_ddsm/dicom``, RLE lossless, about
4500 x 2850), plus ``--phantoms N`` full-field phantom DICOMs written by ``monai_mammo.data.phantom``.

Run: ``python benchmarks/bench_preprocessing.py`` (about 1-2 minutes on 2 CPU cores);
``--json results.json`` also writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "cbis_ddsm" / "dicom"
OUTPUT_SIZE = (1024, 832)


def build_chain(name: str, seed: int = 0):
    """The transforms of one chain, as a list of (step name, transform)."""
    from monai.data import PydicomReader
    from monai.transforms import (
        EnsureChannelFirstd,
        LoadImaged,
        RandAffined,
        RandFlipd,
        Resized,
        ScaleIntensityRangePercentilesd,
    )

    affine = {"prob": 1.0, "rotate_range": 0.1, "scale_range": 0.1, "translate_range": (20, 20)}
    if name == "plain":
        steps = [
            ("LoadImaged(PydicomReader)", LoadImaged("image", reader=PydicomReader())),
            ("EnsureChannelFirstd", EnsureChannelFirstd("image")),
            (
                "ScaleIntensityRangePercentilesd",
                ScaleIntensityRangePercentilesd("image", 0.5, 99.5, 0.0, 1.0, True),
            ),
            ("Resized", Resized("image", OUTPUT_SIZE)),
            ("RandFlipd", RandFlipd("image", prob=0.5, spatial_axis=1)),
            ("RandAffined", RandAffined("image", mode="bilinear", **affine)),
        ]
    elif name == "monai_mammo":
        from monai_mammo.data import MammoDicomReader
        from monai_mammo.transforms import (
            BreastMaskd,
            BreastPercentileScaled,
            CanonicalLateralityd,
            CropBreastd,
        )

        keys = ["image", "breast_mask"]
        steps = [
            ("LoadImaged(MammoDicomReader)", LoadImaged("image", reader=MammoDicomReader(voi="raw"))),
            ("BreastMaskd", BreastMaskd("image")),
            ("CropBreastd", CropBreastd(keys)),
            ("Resized", Resized(keys, OUTPUT_SIZE, mode=["area", "nearest"])),
            ("CanonicalLateralityd", CanonicalLateralityd(keys)),
            ("BreastPercentileScaled", BreastPercentileScaled("image")),
            ("RandFlipd", RandFlipd(keys, prob=0.5, spatial_axis=0)),
            ("RandAffined", RandAffined(keys, mode=["bilinear", "nearest"], **affine)),
        ]
    else:
        raise ValueError(f"unknown chain {name!r}")
    for _, t in steps:
        if hasattr(t, "set_random_state"):
            t.set_random_state(seed)
    return steps


def rss_mb() -> float:
    """Current resident memory of this process in MiB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_chain(name: str, files: list[str], epochs: int, threads: int | None = None) -> dict:
    """Run one chain in this process and return its measurements."""
    warnings.filterwarnings("ignore")
    if threads:
        import torch

        torch.set_num_threads(threads)
    steps = build_chain(name)
    step_times: dict[str, list[float]] = {s: [] for s, _ in steps}

    def one(path: str, record: bool) -> tuple:
        d = {"image": path}
        for step, t in steps:
            start = time.perf_counter()
            d = t(d)
            if record:
                step_times[step].append(time.perf_counter() - start)
        return tuple(d["image"].shape)

    shape = one(files[0], record=False)  # warm-up: lazy imports, allocator, codec plugins
    baseline = rss_mb()
    per_image = []
    total_start = time.perf_counter()
    for _ in range(epochs):
        for path in files:
            start = time.perf_counter()
            shape = one(path, record=True)
            per_image.append(time.perf_counter() - start)
    total = time.perf_counter() - total_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "chain": name,
        "images": len(per_image),
        "output_shape": list(shape),
        "images_per_s": len(per_image) / total,
        "median_s_per_image": statistics.median(per_image),
        "peak_rss_mb": peak,
        "rss_after_warmup_mb": baseline,
        "peak_increase_mb": peak - baseline,
        "steps_median_ms": {k: 1000 * statistics.median(v) for k, v in step_times.items()},
        "torch_threads": __import__("torch").get_num_threads(),
    }


def phantom_files(folder: Path, count: int) -> list[str]:
    """Write ``count`` full-field phantom DICOMs (4096 x 3328) and return their paths."""
    from monai_mammo.data.phantom import write_phantom_dataset

    write_phantom_dataset(folder, n_images=count, shape=(4096, 3328), seed=0)
    return sorted(str(p) for p in folder.rglob("*.dcm"))[:count]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of full-field DICOMs")
    parser.add_argument("--epochs", type=int, default=3, help="timed passes over the inputs")
    parser.add_argument("--phantoms", type=int, default=0, help="also use this many full-field phantoms")
    parser.add_argument("--json", type=Path, default=None, help="write the results to this file")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads in both chains (default: torch's)"
    )
    parser.add_argument("--worker", choices=["plain", "monai_mammo"], help=argparse.SUPPRESS)
    parser.add_argument("--files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:  # inside a subprocess: run one chain, print its JSON
        print(json.dumps(run_chain(args.worker, args.files, args.epochs, args.threads)))
        return

    files = sorted(str(p) for p in args.data.glob("*.dcm"))
    if not files and not args.phantoms:
        sys.exit(f"no DICOM files in {args.data} (pass --data or --phantoms N)")
    with tempfile.TemporaryDirectory() as tmp:
        if args.phantoms:
            files += phantom_files(Path(tmp), args.phantoms)
        results = {}
        for chain in ("plain", "monai_mammo"):
            cmd = [sys.executable, __file__, "--worker", chain, "--epochs", str(args.epochs)]
            cmd += ["--threads", str(args.threads)] if args.threads else []
            cmd += ["--files", *files]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
            results[chain] = json.loads(out.stdout.strip().splitlines()[-1])

    plain, ours = results["plain"], results["monai_mammo"]
    print(
        f"inputs: {len(files)} full-field DICOMs x {args.epochs} epochs; output {ours['output_shape']}; "
        f"torch threads {ours['torch_threads']}; {os.cpu_count()} CPUs"
    )
    print(f"{'chain':<14}{'images/s':>10}{'s/image (median)':>18}{'peak RSS MiB':>14}{'peak - warm MiB':>17}")
    for r in (plain, ours):
        print(
            f"{r['chain']:<14}{r['images_per_s']:>10.2f}{r['median_s_per_image']:>18.3f}"
            f"{r['peak_rss_mb']:>14.0f}{r['peak_increase_mb']:>17.0f}"
        )
    ratio = ours["images_per_s"] / plain["images_per_s"]
    print(f"throughput ratio monai_mammo / plain: {ratio:.2f}x")
    print(f"peak RSS ratio monai_mammo / plain: {ours['peak_rss_mb'] / plain['peak_rss_mb']:.2f}x")
    for r in (plain, ours):
        steps = ", ".join(f"{k} {v:.0f}" for k, v in r["steps_median_ms"].items())
        print(f"{r['chain']} steps (median ms): {steps}")
    if args.json:
        summary = {"files": files, "epochs": args.epochs, "ratio_images_per_s": ratio, **results}
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
