"""MammoDicomReader vs MONAI's PydicomReader on one full-field DICOM mammogram, side by side.

Both are run through ``monai.transforms.LoadImage(reader=..., image_only=False)`` on the same file, in
alternating order, and the median wall time of ``--repeats`` calls is reported, with the pure pydicom decode
(``dcmread`` + ``pixel_array``) as the floor both stand on. The outputs are checked to hold the same pixels
(PydicomReader's is transposed: (Columns, Rows)).

Run: ``python benchmarks/bench_dicom_reader.py`` (default file: the real CBIS-DDSM
``../shared/data/cbis_ddsm/dicom/1-130.dcm``, 4432 x 2864, RLE lossless; about 30 s on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pydicom  # noqa: E402
from monai.transforms import LoadImage  # noqa: E402

from monai_mammo.data import MammoDicomReader  # noqa: E402

DEFAULT_FILE = ROOT / ".." / "shared" / "data" / "cbis_ddsm" / "dicom" / "1-130.dcm"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # PydicomReader warns on every call about the missing position tags

    def decode_only():
        return pydicom.dcmread(args.file).pixel_array

    loaders = {
        "pydicom decode only": decode_only,
        "LoadImage(PydicomReader)": LoadImage(reader="PydicomReader", image_only=False),
        "LoadImage(MammoDicomReader(voi=raw))": LoadImage(
            reader=MammoDicomReader(voi="raw"), image_only=False
        ),
        "LoadImage(MammoDicomReader())": LoadImage(reader=MammoDicomReader(), image_only=False),
    }
    calls = {name: (lambda fn=fn: fn(str(args.file))) for name, fn in loaders.items()}
    calls["pydicom decode only"] = decode_only
    outputs = {name: call() for name, call in calls.items()}  # warm-up, and the outputs to compare
    theirs = np.asarray(outputs["LoadImage(PydicomReader)"][0])
    ours = np.asarray(outputs["LoadImage(MammoDicomReader(voi=raw))"][0])
    assert np.array_equal(theirs.T, ours[0]), "the two readers disagree on the pixels"

    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(args.repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    medians = {name: 1000 * statistics.median(t) for name, t in times.items()}
    base = medians["LoadImage(PydicomReader)"]
    ds = pydicom.dcmread(args.file, stop_before_pixels=True)
    print(f"{args.file.name}: {ds.Rows} x {ds.Columns}, {ds.file_meta.TransferSyntaxUID.name}")
    for name, ms in medians.items():
        print(f"  {name:40s} {ms:8.1f} ms  ({ms / base:.2f} x PydicomReader)")
    print(json.dumps({"file": str(args.file), "repeats": args.repeats, "median_ms": medians}))


if __name__ == "__main__":
    main()
