"""Images per second delivered to the training step: plain MONAI, the monai_mammo chain, and the cache.

Four input pipelines turn full-field DICOM mammograms into augmented ``(1, 1024, 832)`` float32 training
images, each through the same ``DataLoader`` (``--workers``, default the choice of
:func:`monai_mammo.data.loader_settings` for this machine; ``--batch`` images per batch):

- (a) ``plain``: the plain-MONAI chain of ``bench_preprocessing.py`` (``LoadImaged(PydicomReader)``,
  ``EnsureChannelFirstd``, ``ScaleIntensityRangePercentilesd``, ``Resized``, ``RandFlipd``, ``RandAffined``);
- (b) ``chain``: today's monai_mammo chain of ``bench_preprocessing.py`` (``MammoDicomReader``, breast mask,
  crop, resize, canonical side, breast percentiles, flip, affine), every step every epoch;
- (c) ``cache_cpu``: :class:`monai_mammo.data.PreprocessedCacheDataset` holding (b)'s deterministic steps on
  disk (float16 image, uint8 breast mask, memory-mapped ``.npy``), flip and affine per item in the workers;
  the affine is :class:`monai_mammo.transforms.FastRandAffined` (MONAI's ``RandAffined`` with the same
  arguments, draws and outputs, its grid made by ``affine_grid``); ``cache_cpu_monai_affine`` is the same
  pipeline with MONAI's ``RandAffined``, side by side;
- (d) ``cache_device``: the same cache, flip and affine by :class:`monai_mammo.engines.DeviceAugmentation`
  on the batch after the copy to the GPU (``null`` without one; ``--device cpu`` runs it on the CPU).

The cache is built once before (c) (its wall time and bytes per image are reported: the first epoch of a
cached run costs the build plus an epoch of (c)); each pipeline then runs one untimed warm-up batch and
``--epochs`` timed passes. With ``--train-step`` on a CUDA device, a DenseNet121 training step (AMP) is
also timed fed by (d) and fed by one batch already on the GPU: the ratio says whether the input keeps the GPU
busy (goal >= 0.9).

Inputs: the 4 real full-field CBIS-DDSM DICOMs (``../shared/data/cbis_ddsm/dicom``) and ``--phantoms N``
full-field (4096 x 3328) phantom DICOMs. ``--json PATH`` writes
``{"images_per_s": {"plain", "chain", "cache_cpu", "cache_cpu_monai_affine", "cache_device"}, "cache": {...},
...}``.

Run: ``nice -n 10 python benchmarks/bench_training_input.py --phantoms 4 --epochs 2`` (about 2-3 minutes on 2
CPU cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_preprocessing import DEFAULT_DATA, build_chain, phantom_files  # noqa: E402

N_AUGMENT = 2
"""The chains of ``bench_preprocessing.build_chain`` end with RandFlipd and RandAffined."""


def transforms_of(name: str, seed: int = 0, fast_affine: bool = False) -> tuple[list[Any], list[Any]]:
    """The deterministic and the random steps of one chain of ``bench_preprocessing.py``.

    With ``fast_affine`` its ``RandAffined`` becomes :class:`monai_mammo.transforms.FastRandAffined` with the
    same arguments (the same draws and outputs, its grid made by ``affine_grid``).
    """
    steps = [t for _, t in build_chain(name, seed=seed)]
    augment = steps[-N_AUGMENT:]
    if fast_affine:
        from monai_mammo.transforms import FastRandAffined

        affine = augment[-1]
        grid = affine.rand_affine.rand_affine_grid
        fast = FastRandAffined(
            affine.keys,
            prob=affine.prob,
            rotate_range=grid.rotate_range,
            shear_range=grid.shear_range,
            translate_range=grid.translate_range,
            scale_range=grid.scale_range,
            mode=affine.mode,
            padding_mode=affine.padding_mode,
        )
        fast.set_random_state(seed)
        augment = [*augment[:-1], fast]
    return steps[:-N_AUGMENT], augment


def images_per_s(
    loader: Any, epochs: int, augment: Any = None, device: str | None = None
) -> dict[str, float]:
    """Iterate ``loader`` (one warm-up batch, then ``epochs`` passes); images delivered per second."""
    from monai_mammo.engines import DeviceAugmentation

    device_augment = (
        DeviceAugmentation(augment, keys=["image", "breast_mask"], label_key=None) if augment else None
    )

    def deliver(batch: dict[str, Any]) -> int:
        if device_augment is not None:
            out = device_augment.augment(batch, device=device, non_blocking=True)
            image = out["image"]
        else:
            image = batch["image"].to(device or "cpu", non_blocking=True)
        if image.is_cuda:
            torch.cuda.synchronize()
        return int(image.shape[0])

    deliver(next(iter(loader)))
    n, start = 0, time.perf_counter()
    for _ in range(epochs):
        for batch in loader:
            n += deliver(batch)
    seconds = time.perf_counter() - start
    return {"images_per_s": n / seconds, "images": n, "seconds": seconds}


def train_step_ratio(
    loader: Any, augment: Any, device: str, steps: int, size: tuple[int, int]
) -> dict[str, Any]:
    """DenseNet121 training images/s fed by the cache + device augmentation vs by a batch on the GPU."""
    from monai.networks.nets import DenseNet121

    from monai_mammo.engines import DeviceAugmentation

    net = DenseNet121(spatial_dims=2, in_channels=1, out_channels=2).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=device.startswith("cuda"))
    prepare = DeviceAugmentation(augment, keys=["image", "breast_mask"], label_key=None)

    def step(image: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=torch.device(device).type, enabled=device.startswith("cuda")):
            loss = net(image).float().logsumexp(dim=1).mean()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    resident = prepare.augment(next(iter(loader)), device=device)["image"].contiguous()
    for _ in range(3):  # warm-up: cuDNN autotuning, allocator
        step(resident)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        step(resident)
    sync()
    resident_rate = steps * resident.shape[0] / (time.perf_counter() - start)
    n, start = 0, time.perf_counter()
    while n < steps * resident.shape[0]:
        for batch in loader:
            image = prepare.augment(batch, device=device, non_blocking=True)["image"]
            step(image)
            n += int(image.shape[0])
            if n >= steps * resident.shape[0]:
                break
    sync()
    fed_rate = n / (time.perf_counter() - start)
    return {
        "resident_images_per_s": resident_rate,
        "fed_images_per_s": fed_rate,
        "ratio": fed_rate / resident_rate,
        "batch": int(resident.shape[0]),
        "image_shape": list(resident.shape[1:]),
    }


def main() -> None:
    from monai.data import DataLoader, Dataset
    from monai.transforms import Compose

    from monai_mammo.data import PreprocessedCacheDataset, loader_settings

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of full-field DICOMs")
    parser.add_argument("--phantoms", type=int, default=4, help="full-field phantom DICOMs added (default 4)")
    parser.add_argument("--epochs", type=int, default=2, help="timed passes per pipeline (default 2)")
    parser.add_argument(
        "--cache-epochs",
        type=int,
        default=None,
        help="timed passes of the cached pipelines (default --epochs; they are ~10-30x faster, so more "
        "passes time them over a window as long as the others')",
    )
    parser.add_argument("--batch", type=int, default=2, help="images per batch (default 2)")
    parser.add_argument(
        "--workers", type=int, default=None, help="DataLoader workers (default: loader_settings)"
    )
    parser.add_argument(
        "--build-workers", type=int, default=0, help="processes building the cache (default 0)"
    )
    parser.add_argument(
        "--device", default=None, help="device of (d) (default: cuda when available, else none)"
    )
    parser.add_argument(
        "--train-step", type=int, default=0, help="time N DenseNet121 steps fed by (d) vs resident"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="cache folder (default: a temporary one)"
    )
    parser.add_argument("--skip", nargs="*", default=[], help="pipelines to leave out: plain chain")
    parser.add_argument("--json", type=Path, default=None, help="write the results to this file")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    device = args.device or ("cuda" if torch.cuda.is_available() else None)
    settings = loader_settings(device or "cpu", num_workers=args.workers)
    files = sorted(str(p) for p in args.data.glob("*.dcm"))
    with tempfile.TemporaryDirectory() as tmp:
        if args.phantoms:
            files += phantom_files(Path(tmp) / "phantoms", args.phantoms)
        if not files:
            sys.exit(f"no DICOM files in {args.data} (pass --data or --phantoms N)")
        data = [{"image": f} for f in files]

        def loader(dataset: Any) -> Any:
            return DataLoader(dataset, batch_size=args.batch, shuffle=False, **settings)

        rates: dict[str, Any] = {
            "plain": None,
            "chain": None,
            "cache_cpu": None,
            "cache_cpu_monai_affine": None,
            "cache_device": None,
        }
        details: dict[str, Any] = {}
        for name, chain in (("plain", "plain"), ("chain", "monai_mammo")):
            if name in args.skip:
                continue
            deterministic, augment = transforms_of(chain)
            details[name] = images_per_s(loader(Dataset(data, Compose(deterministic + augment))), args.epochs)
            rates[name] = details[name]["images_per_s"]
            print(f"({'ab'[name == 'chain']}) {name}: {rates[name]:.2f} images/s", flush=True)

        cache_dir = args.cache_dir or Path(tmp) / "cache"
        deterministic, augment = transforms_of("monai_mammo", fast_affine=True)
        start = time.perf_counter()
        cached = PreprocessedCacheDataset(
            data,
            Compose(deterministic),
            cache_dir,
            random_transform=Compose(augment),
            num_workers=args.build_workers,
        )
        build_s = time.perf_counter() - start
        nbytes = cached.cache.nbytes()
        cache = {
            "build_s": build_s,
            "build_s_per_image": build_s / len(data),
            "written": cached.n_written,
            "bytes_per_image": nbytes / len(data),
            "build_s_per_1000_images": 1000 * build_s / len(data),
            "gb_per_1000_images": 1000 * nbytes / len(data) / 1e9,
        }
        print(
            f"cache build: {build_s:.1f} s for {len(data)} images ({cached.n_written} written), "
            f"{nbytes / len(data) / 2**20:.2f} MiB per image",
            flush=True,
        )
        cache_epochs = args.cache_epochs or args.epochs
        details["cache_cpu"] = images_per_s(loader(cached), cache_epochs)
        rates["cache_cpu"] = details["cache_cpu"]["images_per_s"]
        print(f"(c) cache_cpu: {rates['cache_cpu']:.2f} images/s", flush=True)
        monai_affine = PreprocessedCacheDataset(
            data, Compose(deterministic), cache_dir, random_transform=Compose(transforms_of("monai_mammo")[1])
        )
        details["cache_cpu_monai_affine"] = images_per_s(loader(monai_affine), cache_epochs)
        rates["cache_cpu_monai_affine"] = details["cache_cpu_monai_affine"]["images_per_s"]
        print(f"(c) with MONAI's RandAffined: {rates['cache_cpu_monai_affine']:.2f} images/s", flush=True)
        train_step = None
        if device is not None:
            plain_cached = PreprocessedCacheDataset(data, Compose(deterministic), cache_dir)
            augment_d = Compose(transforms_of("monai_mammo", seed=1, fast_affine=True)[1])
            details["cache_device"] = images_per_s(loader(plain_cached), cache_epochs, augment_d, device)
            rates["cache_device"] = details["cache_device"]["images_per_s"]
            print(f"(d) cache_device ({device}): {rates['cache_device']:.2f} images/s", flush=True)
            if args.train_step and device.startswith("cuda"):
                train_step = train_step_ratio(
                    loader(plain_cached), augment_d, device, args.train_step, (1024, 832)
                )
                print(
                    f"train step fed by (d) / resident: {train_step['ratio']:.2f} ({train_step})", flush=True
                )

    ratios = {k: v / rates["plain"] for k, v in rates.items() if v is not None and rates["plain"]}
    print(
        f"inputs: {len(files)} full-field DICOMs ({len(files) - args.phantoms} real, {args.phantoms} "
        f"phantoms) x {args.epochs} epochs (cached: {cache_epochs}); loader {settings}; batch {args.batch}; "
        f"{os.cpu_count()} CPUs; "
        f"device {device}"
    )
    print(f"{'pipeline':<24}{'images/s':>10}{'x plain':>9}")
    for name, rate in rates.items():
        print(
            f"{name:<24}{'null' if rate is None else f'{rate:.2f}':>10}{ratios.get(name, float('nan')):>9.1f}"
        )
    if args.json:
        summary = {
            "images_per_s": rates,
            "ratio_to_plain": ratios,
            "cache": cache,
            "train_step": train_step,
            "files": files,
            "epochs": args.epochs,
            "cache_epochs": cache_epochs,
            "batch": args.batch,
            "loader": settings,
            "device": device,
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "details": details,
        }
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
