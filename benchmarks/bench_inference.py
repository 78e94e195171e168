"""Breast-aware vs plain MONAI sliding-window inference over one full-field mammogram, side by side.

Same image, same network, same window grid; the outputs inside the breast must agree (max abs diff is
asserted). By default the network and grid are the lesion-segmentation bundle's own inference settings: the
network ``inference.json`` names (since 0.2.0 a UNet 16..256, batch norm) with the shipped weights
(``bundles/mammo_lesion_segmentation/models/model.pt``), roi 512, overlap 0.25, 4 windows per call;
``--network unet16-256`` runs a MONAI UNet 16..256 without batch norm (random weights from a fixed seed).
Reported: windows run, time (median of ``--repeats`` alternating runs) and peak memory:

- CPU: peak resident memory (VmHWM) of a separate worker process per method, reset just before the inference
  (``/proc/self/clear_refs``), plus its increase over the resident memory before the inference;
- CUDA: ``torch.cuda.max_memory_allocated`` around each run.

The image is a real CBIS-DDSM DICOM (``../shared/data/cbis_ddsm/dicom``) in canonical orientation (chest
wall on the left), its empty far side cropped so that the breast fills ``--breast-fraction`` of the frame,
resized to 4096x3328 (a full-field detector's size). Without the shared data, ``--image`` takes an ``.npz``
written by ``--save-image``, and ``--source synthetic`` draws a smooth breast-shaped phantom.

Run: ``python benchmarks/bench_inference.py`` (about 1-2 minutes on 2 CPU cores);
``--device cuda`` on a GPU machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monai.inferers import SlidingWindowInferer  # noqa: E402
from monai.networks.nets import UNet  # noqa: E402

from monai_mammo.inferers import BatchBreastMask, BreastSlidingWindowInferer  # noqa: E402

SHAPE = (4096, 3328)
DEFAULT_DICOM = ROOT.parent / "shared" / "data" / "cbis_ddsm" / "dicom" / "1-131.dcm"
SEG_BUNDLE = ROOT / "bundles" / "mammo_lesion_segmentation"
NETWORKS = {
    "bundle": "the segmentation bundle's network (inference.json, shipped weights)",
    "unet16-256": "MONAI UNet 16..256 (num_res_units=2), random weights",
}


def _fit_breast_fraction(image: np.ndarray, fraction: float) -> np.ndarray:
    """Crop the empty far side (columns away from the chest wall) so the breast fills ``fraction``."""
    mask = BatchBreastMask()(torch.from_numpy(image)[None, None])[0, 0].numpy()
    col_last = mask.any(axis=0).nonzero()[0].max() + 1
    total = mask.sum()
    # breast area / (rows * cols) = fraction, never cutting into the breast
    cols = int(np.clip(total / (fraction * image.shape[0]), col_last, image.shape[1]))
    return image[:, :cols]


def load_cbis(path: Path, fraction: float) -> np.ndarray:
    """A CBIS-DDSM DICOM as float32 [0, 1], chest wall on the left, resized to ``SHAPE``."""
    import pydicom

    ds = pydicom.dcmread(path)
    image = ds.pixel_array.astype(np.float32)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        image = image.max() - image
    image = (image - image.min()) / max(float(image.max() - image.min()), 1.0)
    if image[:, : image.shape[1] // 2].mean() < image[:, image.shape[1] // 2 :].mean():
        image = image[:, ::-1]  # right breast: flip to the canonical orientation
    image = _fit_breast_fraction(np.ascontiguousarray(image), fraction)
    resized = F.interpolate(torch.from_numpy(np.ascontiguousarray(image))[None, None], SHAPE, mode="area")
    return resized[0, 0].numpy()


def synthetic(fraction: float, seed: int = 0) -> np.ndarray:
    """A smooth half-ellipse 'breast' with blurred noise texture on a dark background, float32 [0, 1]."""
    rng = np.random.default_rng(seed)
    rows, cols = SHAPE
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    # half-ellipse on the left edge with area fraction * rows * cols: pi/4 * (2a) * (2b) / 2 ... solve for b
    a = rows * 0.48
    b = min(fraction * rows * cols * 2 / (np.pi * a), cols * 0.98)
    inside = ((yy - rows / 2) / a) ** 2 + (xx / b) ** 2 <= 1
    noise = torch.from_numpy(rng.standard_normal((1, 1, rows // 16, cols // 16)).astype(np.float32))
    texture = F.interpolate(noise, SHAPE, mode="bilinear", align_corners=False)[0, 0].numpy()
    return np.where(inside, 0.5 + 0.15 * texture, 0.01).clip(0, 1).astype(np.float32)


def make_net(name: str, seed: int = 0) -> torch.nn.Module:
    """The benchmarked network, in eval mode (see :data:`NETWORKS`)."""
    torch.manual_seed(seed)
    if name == "unet16-256":
        return UNet(2, 1, 1, channels=(16, 32, 64, 128, 256), strides=(2, 2, 2, 2), num_res_units=2).eval()
    from monai.bundle import ConfigParser

    parser = ConfigParser()
    parser.read_config(str(SEG_BUNDLE / "configs" / "inference.json"))
    net = parser.get_parsed_content("network_def")
    weights = SEG_BUNDLE / "models" / "model.pt"
    if weights.is_file():
        net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return net.eval()


def make_inferers(args: argparse.Namespace) -> dict[str, SlidingWindowInferer]:
    common = {"roi_size": (args.roi, args.roi), "sw_batch_size": args.sw_batch_size, "overlap": args.overlap}
    common["mode"] = args.mode
    return {
        "plain": SlidingWindowInferer(**common),
        "breast": BreastSlidingWindowInferer(**common),  # mask from its default mask_fn, timed with it
    }


class Counter(torch.nn.Module):
    """Counts the windows the network sees."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net
        self.windows = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.windows += x.shape[0]
        return self.net(x)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def worker(args: argparse.Namespace) -> None:
    """One method, one run, in a fresh process: peak resident memory of the inference."""
    stored = np.load(args.image, allow_pickle=False)["image"]
    image = torch.from_numpy(stored.astype(np.float32) / 65535.0)[None, None]
    net = make_net(args.network)
    inferer = make_inferers(args)[args.worker]
    with torch.inference_mode():
        net(image[..., : args.roi, : args.roi])  # warm-up: allocator and kernels
        before = _status_kib("VmRSS")
        try:
            Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
            reset = True
        except OSError:
            reset = False
        start = time.perf_counter()
        out = inferer(image, net)
        elapsed = time.perf_counter() - start
    peak = _status_kib("VmHWM")
    print(
        json.dumps(
            {
                "peak_mib": peak / 1024,
                "before_mib": before / 1024,
                "reset": reset,
                "time_s": elapsed,
                "shape": list(out.shape),
            }
        )
    )


def run_workers(args: argparse.Namespace, image_path: str) -> dict[str, list[dict]]:
    """``args.repeats`` fresh worker processes per method, alternating the order."""
    result: dict[str, list[dict]] = {"plain": [], "breast": []}
    for r in range(args.repeats):
        for name in ("plain", "breast") if r % 2 == 0 else ("breast", "plain"):
            cmd = [
                sys.executable,
                __file__,
                "--worker",
                name,
                "--image",
                image_path,
                "--roi",
                str(args.roi),
                "--overlap",
                str(args.overlap),
                "--sw-batch-size",
                str(args.sw_batch_size),
                "--mode",
                args.mode,
                "--threads",
                str(args.threads),
                "--network",
                args.network,
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            result[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return result


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", choices=["cbis", "synthetic"], default="cbis")
    parser.add_argument("--dicom", type=Path, default=DEFAULT_DICOM)
    parser.add_argument("--image", help="an .npz written by --save-image (uint16 'image' array)")
    parser.add_argument("--save-image", help="write the prepared image as .npz and exit")
    parser.add_argument("--breast-fraction", type=float, default=0.45)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--network", choices=sorted(NETWORKS), default="bundle")
    parser.add_argument("--roi", type=int, default=512)
    parser.add_argument("--overlap", type=float, default=0.25)
    parser.add_argument("--sw-batch-size", type=int, default=4)
    parser.add_argument("--mode", default="constant", choices=["constant", "gaussian"])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--worker", choices=["plain", "breast"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.worker:
        worker(args)
        return

    if args.image:
        image_np = np.load(args.image, allow_pickle=False)["image"].astype(np.float32) / 65535.0
        source = f"{args.image}"
    elif args.source == "cbis":
        if not args.dicom.exists():
            raise SystemExit(f"{args.dicom} not found: use --source synthetic or --image FILE.npz")
        image_np = load_cbis(args.dicom, args.breast_fraction)
        source = f"CBIS-DDSM {args.dicom.name}"
    else:
        image_np = synthetic(args.breast_fraction)
        source = "synthetic half-ellipse"
    image_u16 = np.round(image_np * 65535.0).astype(np.uint16)
    if args.save_image:
        np.savez_compressed(args.save_image, image=image_u16)
        print(f"wrote {args.save_image}")
        return

    device = torch.device(args.device)
    image = torch.from_numpy(image_u16.astype(np.float32) / 65535.0)[None, None].to(device)
    net = make_net(args.network).to(device)
    counter = Counter(net)
    inferers = make_inferers(args)
    mask = BatchBreastMask()(image)
    breast_fraction = mask.float().mean().item()

    print(f"image: {source}, {tuple(image.shape[2:])}, breast {breast_fraction:.1%} of the frame")
    print(
        f"network: {NETWORKS[args.network]}, roi {args.roi}, overlap {args.overlap}, "
        f"sw_batch_size {args.sw_batch_size}, mode {args.mode}, device {device}, "
        f"torch threads {torch.get_num_threads()}"
    )

    times: dict[str, list[float]] = {"plain": [], "breast": []}
    windows: dict[str, int] = {}
    peaks: dict[str, list[float]] = {"plain": [], "breast": []}
    outputs: dict[str, torch.Tensor] = {}
    cuda = device.type == "cuda"
    with torch.inference_mode():
        net(image[..., : args.roi, : args.roi])  # warm-up
        for r in range(args.repeats if cuda else 1):  # on CPU: one run each here, for the outputs
            for name in ("plain", "breast") if r % 2 == 0 else ("breast", "plain"):
                counter.windows = 0
                if cuda:
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats(device)
                base = torch.cuda.memory_allocated(device) if cuda else 0
                _sync(device)
                start = time.perf_counter()
                out = inferers[name](image, counter)
                _sync(device)
                times[name].append(time.perf_counter() - start)
                windows[name] = counter.windows
                if cuda:
                    peaks[name].append((torch.cuda.max_memory_allocated(device) - base) / 2**20)
                outputs[name] = out
                del out
    inside = mask.expand_as(outputs["plain"])
    max_diff = (outputs["plain"][inside] - outputs["breast"][inside]).abs().max().item()
    assert max_diff < 1e-4, f"outputs differ inside the breast: max abs diff {max_diff}"
    outside_zero = bool((outputs["breast"][~inside] == 0).all())
    del outputs

    rows = [
        (
            "windows run",
            f"{windows['plain']}",
            f"{windows['breast']}",
            f"{windows['breast'] / windows['plain']:.2f}",
        )
    ]
    if cuda:
        tp, tb = _median(times["plain"]), _median(times["breast"])
        rows.append((f"time, median of {args.repeats} (s)", f"{tp:.3f}", f"{tb:.3f}", f"{tb / tp:.2f}"))
        mp, mb = _median(peaks["plain"]), _median(peaks["breast"])
        rows.append(("peak CUDA memory over input (MiB)", f"{mp:.0f}", f"{mb:.0f}", f"{mb / mp:.2f}"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "image.npz")
            np.savez(path, image=image_u16)
            runs = run_workers(args, path)
        tp = _median([w["time_s"] for w in runs["plain"]])
        tb = _median([w["time_s"] for w in runs["breast"]])
        rows.append(
            (f"time, median of {args.repeats} processes (s)", f"{tp:.2f}", f"{tb:.2f}", f"{tb / tp:.2f}")
        )
        mp = _median([w["peak_mib"] for w in runs["plain"]])
        mb = _median([w["peak_mib"] for w in runs["breast"]])
        rows.append(("peak RSS of the process, median (MiB)", f"{mp:.0f}", f"{mb:.0f}", f"{mb / mp:.2f}"))
        dp = _median([w["peak_mib"] - w["before_mib"] for w in runs["plain"]])
        db = _median([w["peak_mib"] - w["before_mib"] for w in runs["breast"]])
        rows.append(("  of which the inference, median (MiB)", f"{dp:.0f}", f"{db:.0f}", f"{db / dp:.2f}"))
        if not all(w["reset"] for v in runs.values() for w in v):
            print("note: /proc/self/clear_refs unavailable, peaks include start-up")
        print(
            "per-process times (s): "
            + ", ".join(f"{k} " + " ".join(f"{w['time_s']:.2f}" for w in v) for k, v in runs.items())
        )
        print(
            "per-process inference peaks (MiB): "
            + ", ".join(
                f"{k} " + " ".join(f"{w['peak_mib'] - w['before_mib']:.0f}" for w in v)
                for k, v in runs.items()
            )
        )
    rows.append(("max |diff| inside the breast", "", f"{max_diff:.1e}", ""))
    print()
    header = ("", "plain MONAI", "breast-aware", "breast / plain")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for r in [header, *rows]:
        print(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))
            )
        )
    print(
        f"\nspeed-up: {tp / tb:.2f}x; breast-aware output outside the breast is 0 everywhere: {outside_zero}"
    )


if __name__ == "__main__":
    main()
