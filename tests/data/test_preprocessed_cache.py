"""PreprocessedCache(Dataset): the segmentation bundle's deterministic chain, cached on disk.

Small phantom mammograms (96 x 80 DICOMs with lesion masks) through the bundle's own deterministic
transforms (parsed from its train.json): equality with the uncached chain, no pickle anywhere in the cache,
a new entry for a changed source or setting, two writer processes at once, a writer killed with SIGKILL
half-way through an entry, a damaged entry, failure reports.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser
from monai.data import MetaTensor
from monai.transforms import Compose, RandFlipd

from monai_mammo.data import PreprocessedCache, PreprocessedCacheDataset, item_key
from monai_mammo.data.phantom import write_phantom_dataset

REPO = Path(__file__).resolve().parents[2]
TRAIN = REPO / "bundles" / "mammo_lesion_segmentation" / "configs" / "train.json"

CHAIN_SNIPPET = """
from monai.bundle import ConfigParser
from monai.transforms import Compose
def chain(datalist, image_size=96):
    parser = ConfigParser()
    parser.read_config(TRAIN_PATH)
    parser["datalist"] = datalist
    parser["image_size"] = image_size
    return Compose(parser.get_parsed_content("train#deterministic_transforms")), parser.get_parsed_content(
        "train#datalist"
    )
"""


def bundle_chain(datalist: Path, image_size: int = 96) -> tuple[Compose, list[dict]]:
    """The segmentation bundle's deterministic transforms and its training datalist items."""
    parser = ConfigParser()
    parser.read_config(str(TRAIN))
    parser["datalist"] = str(datalist)
    parser["image_size"] = image_size
    return Compose(parser.get_parsed_content("train#deterministic_transforms")), parser.get_parsed_content(
        "train#datalist"
    )


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_phantom_dataset(tmp_path_factory.mktemp("phantoms"), n_images=6, shape=(96, 80), seed=3)


@pytest.fixture()
def chain(phantoms: Path) -> tuple[Compose, list[dict]]:
    return bundle_chain(phantoms)


def entry_folders(cache: PreprocessedCache) -> list[Path]:
    return [cache.entry_path(k) for k in cache.keys()]


def test_cached_items_equal_the_uncached_chain(chain: tuple[Compose, list[dict]], tmp_path: Path) -> None:
    transform, items = chain
    ds = PreprocessedCacheDataset(items, transform, tmp_path, keys=("image", "label"))
    assert ds.n_written == len(items) and len(ds) == len(items)
    for i, item in enumerate(items):
        expected = transform(dict(item))
        cached = ds[i]
        assert set(cached) == set(expected)
        for key in ("image", "label", "breast_mask"):
            assert isinstance(cached[key], MetaTensor)
            assert cached[key].dtype == expected[key].dtype and cached[key].shape == expected[key].shape
        # the image is stored as float16 (relative precision 2**-11), the masks exactly
        scale = float(expected["image"].abs().max())
        assert torch.allclose(cached["image"], expected["image"], atol=scale * 2**-10, rtol=0)
        assert torch.equal(cached["label"], expected["label"])
        assert torch.equal(cached["breast_mask"], expected["breast_mask"])
        assert cached["lesion"] == expected["lesion"]
        for name in ("laterality", "view_position", "filename_or_obj", "inverted_export"):
            assert cached["image"].meta[name] == expected["image"].meta[name]
        assert torch.allclose(
            torch.as_tensor(cached["image"].affine), torch.as_tensor(expected["image"].affine)
        )
        assert [op["class"] for op in cached["image"].applied_operations] == [
            op["class"] for op in expected["image"].applied_operations
        ]
    # the second dataset over the same cache computes nothing
    again = PreprocessedCacheDataset(items, transform, tmp_path, keys=("image", "label"))
    assert again.n_written == 0


def test_a_cached_item_can_be_inverted_to_the_source_geometry(
    chain: tuple[Compose, list[dict]], tmp_path: Path
) -> None:
    transform, items = chain
    cache = PreprocessedCache(tmp_path, transform)
    cached = cache.load_or_compute(items[0])
    by_name = {type(t).__name__: t for t in transform.transforms}
    crop, canonical = by_name["CropBreastd"], by_name["CanonicalLateralityd"]
    restored = canonical.inverse(crop.inverse({k: cached[k] for k in ("image", "label", "breast_mask")}))
    direct = transform(dict(items[0]))
    uncropped = canonical.inverse(crop.inverse({k: direct[k] for k in ("image", "label", "breast_mask")}))
    assert restored["image"].shape == uncropped["image"].shape
    assert torch.equal(restored["label"], uncropped["label"])


def test_entries_are_compact_and_hold_no_pickle(chain: tuple[Compose, list[dict]], tmp_path: Path) -> None:
    transform, items = chain
    cache = PreprocessedCache(tmp_path, transform)
    for item in items:
        cache.load_or_compute(item)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files
    for path in files:
        head = path.read_bytes()[:8]
        assert path.suffix in (".npy", ".json"), path
        assert not (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")), path  # pickle
        assert not head.startswith(b"PK"), path  # torch.save's zip
        if path.suffix == ".npy":
            array = np.load(path, mmap_mode="r", allow_pickle=False)
            assert array.dtype in (np.float16, np.uint8, np.uint16), (path, array.dtype)
        else:
            json.loads(path.read_text())
    entry = json.loads((entry_folders(cache)[0] / "entry.json").read_text())
    stored = {name: record["stored_dtype"] for name, record in entry["arrays"].items()}
    assert stored == {"image": "float16", "label": "uint8", "breast_mask": "uint8"}


def test_a_changed_source_or_setting_makes_a_new_entry(
    chain: tuple[Compose, list[dict]], tmp_path: Path
) -> None:
    transform, items = chain
    cache = PreprocessedCache(tmp_path, transform)
    first = cache.load_or_compute(items[0])
    key = item_key(items[0])
    assert cache.has(items[0])
    # the same file rewritten with other content (a flipped image) and a later mtime
    source = Path(items[0]["image"])
    original = source.read_bytes()
    try:
        import pydicom

        ds = pydicom.dcmread(source)
        ds.PixelData = np.ascontiguousarray(ds.pixel_array[::-1]).tobytes()
        ds.save_as(source)
        stat = source.stat()
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        assert item_key(items[0]) != key and not cache.has(items[0])
        second = cache.load_or_compute(items[0])
        assert len(list(cache.keys())) == 2
        assert not torch.equal(first["image"], second["image"])
        assert torch.allclose(second["image"], transform(dict(items[0]))["image"], atol=1e-2)
        assert cache.prune(items) == [key] and list(cache.keys()) == [item_key(items[0])]
    finally:
        source.write_bytes(original)
    # another working size: another settings folder, nothing shared
    parser = ConfigParser()
    parser.read_config(str(TRAIN))
    parser["image_size"] = 64
    resized = Compose(parser.get_parsed_content("train#deterministic_transforms"))
    other = PreprocessedCache(tmp_path, resized)
    assert other.settings_hash != cache.settings_hash
    assert not other.has(items[1])
    assert max(other.load_or_compute(items[1])["image"].shape[1:]) == 64
    # a field of the item is part of the key too
    assert item_key({**items[1], "lesion": 1 - items[1]["lesion"]}) != item_key(items[1])


def test_the_settings_hash_is_the_same_in_another_process_and_after_use(
    chain: tuple[Compose, list[dict]], phantoms: Path, tmp_path: Path
) -> None:
    transform, items = chain
    before = PreprocessedCache(tmp_path, transform).settings_hash
    transform(dict(items[0]))
    assert PreprocessedCache(tmp_path, transform).settings_hash == before
    script = CHAIN_SNIPPET.replace("TRAIN_PATH", repr(str(TRAIN))) + textwrap.dedent(
        f"""
        from monai_mammo.data import PreprocessedCache
        transform, items = chain({str(phantoms)!r})
        print(PreprocessedCache({str(tmp_path)!r}, transform).settings_hash)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == before


WRITER = """
import sys, time
from pathlib import Path
from monai_mammo.data import PreprocessedCacheDataset
transform, items = chain({datalist!r})
go = Path({go!r})
while not go.exists():
    time.sleep(0.01)
ds = PreprocessedCacheDataset(items, transform, {cache!r}, keys=("image", "label"))
print(ds.n_written)
"""


def test_two_writer_processes_at_once(phantoms: Path, tmp_path: Path) -> None:
    cache_dir, go = tmp_path / "cache", tmp_path / "go"
    script = CHAIN_SNIPPET.replace("TRAIN_PATH", repr(str(TRAIN))) + WRITER.format(
        datalist=str(phantoms), go=str(go), cache=str(cache_dir)
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    time.sleep(1.0)
    go.touch()
    written = [int(p.communicate(timeout=240)[0].strip().splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    transform, items = bundle_chain(phantoms)
    cache = PreprocessedCache(cache_dir, transform)
    assert sum(written) >= len(items)  # both computed; each entry was kept once
    assert sorted(cache.keys()) == sorted(item_key(i) for i in items)
    assert not [p for p in cache.folder.rglob(".*")]  # the losing writer's copies were removed
    for item in items:
        assert torch.equal(cache.load_or_compute(item)["label"], transform(dict(item))["label"])


KILLED_WRITER = """
import time
import monai_mammo.data.cache_entry as entry_format
from monai_mammo.data import PreprocessedCache
transform, items = chain({datalist!r})
def stall(path, text):  # the arrays are on disk; entry.json never comes
    print("stalled", flush=True)
    time.sleep(600)
entry_format._write_text = stall
PreprocessedCache({cache!r}, transform).load_or_compute(items[0])
"""


def test_a_writer_killed_mid_entry_leaves_nothing_that_is_read(phantoms: Path, tmp_path: Path) -> None:
    script = CHAIN_SNIPPET.replace("TRAIN_PATH", repr(str(TRAIN))) + KILLED_WRITER.format(
        datalist=str(phantoms), cache=str(tmp_path)
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "stalled"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    transform, items = bundle_chain(phantoms)
    cache = PreprocessedCache(tmp_path, transform)
    leftovers = [p for p in cache.folder.rglob(".*.tmp")]
    assert len(leftovers) == 1 and list(leftovers[0].glob("*.npy"))  # half an entry, under a hidden name
    assert cache.get(item_key(items[0])) is None and not cache.has(items[0]) and not list(cache.keys())
    item = cache.load_or_compute(items[0])
    assert torch.equal(item["label"], transform(dict(items[0]))["label"])
    assert cache.remove_stale_temporaries() == leftovers and list(cache.keys()) == [item_key(items[0])]


def test_a_damaged_entry_is_recomputed(chain: tuple[Compose, list[dict]], tmp_path: Path) -> None:
    transform, items = chain
    cache = PreprocessedCache(tmp_path, transform)
    good = cache.load_or_compute(items[2])
    folder = entry_folders(cache)[0]
    image_file = folder / json.loads((folder / "entry.json").read_text())["arrays"]["image"]["file"]
    image_file.write_bytes(image_file.read_bytes()[:200])  # truncated
    with pytest.raises(ValueError, match="cannot be read|does not match"):
        cache.get(item_key(items[2]))
    again = cache.load_or_compute(items[2])
    assert torch.equal(again["image"], good["image"])


def test_unreadable_items_are_left_out_and_reported(
    chain: tuple[Compose, list[dict]], tmp_path: Path
) -> None:
    transform, items = chain
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(Path(items[0]["image"]).read_bytes()[:3000])
    data = [*items, {"image": str(broken), "label": items[0]["label"], "lesion": 1}]
    report = tmp_path / "failures.json"
    random = Compose([RandFlipd(["image", "label"], prob=1.0, spatial_axis=0)])
    ds = PreprocessedCacheDataset(
        data,
        transform,
        tmp_path / "cache",
        random_transform=random,
        keys=("image", "label"),
        report_path=report,
    )
    assert len(ds) == len(items) and ds.data == items
    written = json.loads(report.read_text())
    assert written["n_failed"] == 1 and written["failures"][0]["source"].startswith(str(broken))
    flipped = ds[0]
    assert torch.equal(flipped["label"], torch.flip(ds.cache.load_or_compute(items[0])["label"], dims=[1]))
    with pytest.raises(RuntimeError, match="could not be read"):
        PreprocessedCacheDataset([data[-1]], transform, tmp_path / "cache", keys=("image", "label"))


def test_workers_fill_the_cache_in_processes(chain: tuple[Compose, list[dict]], tmp_path: Path) -> None:
    transform, items = chain
    ds = PreprocessedCacheDataset(items, transform, tmp_path, keys=("image", "label"), num_workers=2)
    assert ds.n_written == len(items) and sorted(ds.cache.keys()) == sorted(item_key(i) for i in items)
