"""Public mammography data set importers: a downloaded set -> a MONAI datalist, in one call.

.. code-block:: python

    from monai_mammo.data.datasets import prepare_dataset

    prepare_dataset("mini_mias", root="all-mias", out="mias/datalist.json", seed=0)

or ``monai-mammo prepare mini_mias --root all-mias --out mias/datalist.json``. One module per set
(:mod:`.cbis_ddsm`, :mod:`.vindr`, :mod:`.inbreast`, :mod:`.mini_mias`, :mod:`.rsna`, :mod:`.cmmd`,
:mod:`.ddsm_boxes`) and for box-annotated sets in the common dump layouts (:mod:`.yolo_boxes`: YOLO
folders; :mod:`.box_csv`: one CSV row per box), each
with a ``scan_<name>(root, ...)`` function that reads the set's own layout into records; the registry maps
names to them; :func:`prepare_dataset` splits, draws masks, caches and writes.
"""

from __future__ import annotations

from monai_mammo.data.datasets.box_csv import scan_box_csv
from monai_mammo.data.datasets.cache import CacheError, decode_image, materialize
from monai_mammo.data.datasets.cbis_ddsm import scan_cbis_ddsm
from monai_mammo.data.datasets.cmmd import scan_cmmd
from monai_mammo.data.datasets.ddsm_boxes import ddsm_case_id, scan_ddsm_boxes
from monai_mammo.data.datasets.inbreast import read_inbreast_rois, scan_inbreast
from monai_mammo.data.datasets.masks import (
    BoxMask,
    CircleMask,
    EmptyMask,
    MaskFiles,
    PolygonMask,
    colour_lesion_masks,
)
from monai_mammo.data.datasets.mini_mias import read_mias_info, scan_mini_mias
from monai_mammo.data.datasets.prepare import prepare_dataset, report_path
from monai_mammo.data.datasets.records import DatasetLayoutError, ImageRecord, ScanResult
from monai_mammo.data.datasets.registry import (
    DATASETS,
    DatasetSpec,
    UnknownDatasetError,
    available_datasets,
    get_dataset,
    register_dataset,
)
from monai_mammo.data.datasets.rsna import scan_rsna
from monai_mammo.data.datasets.vindr import scan_vindr
from monai_mammo.data.datasets.yolo_boxes import read_yolo_labels, read_yolo_names, scan_yolo_boxes

for _spec in (
    DatasetSpec("cbis_ddsm", scan_cbis_ddsm, "CBIS-DDSM", ("cbis", "cbis-ddsm", "cbisddsm"), True),
    DatasetSpec("vindr", scan_vindr, "VinDr-Mammo", ("vindr_mammo", "vindr-mammo", "vindrmammo"), True),
    DatasetSpec("inbreast", scan_inbreast, "INbreast", ("in_breast",)),
    DatasetSpec("mini_mias", scan_mini_mias, "mini-MIAS", ("mias", "minimias", "mini-mias")),
    DatasetSpec(
        "rsna", scan_rsna, "RSNA Screening Mammography 2023", ("rsna_2023", "rsna-bcd", "rsna_mammo")
    ),
    DatasetSpec("cmmd", scan_cmmd, "CMMD (Chinese Mammography Database)", ("chinese_mammography_database",)),
    DatasetSpec("ddsm_boxes", scan_ddsm_boxes, "DDSM lesion boxes", ("ddsm-boxes", "ddsmboxes")),
    DatasetSpec("yolo_boxes", scan_yolo_boxes, "YOLO box folder", ("yolo", "roboflow", "ultralytics"), True),
    DatasetSpec("box_csv", scan_box_csv, "box table (CSV)", ("boxes_csv", "box_table"), True),
):
    register_dataset(_spec, overwrite=True)
del _spec

__all__ = [
    "DATASETS",
    "BoxMask",
    "CacheError",
    "CircleMask",
    "DatasetLayoutError",
    "DatasetSpec",
    "EmptyMask",
    "ImageRecord",
    "MaskFiles",
    "PolygonMask",
    "ScanResult",
    "UnknownDatasetError",
    "available_datasets",
    "colour_lesion_masks",
    "ddsm_case_id",
    "decode_image",
    "get_dataset",
    "materialize",
    "prepare_dataset",
    "read_inbreast_rois",
    "read_mias_info",
    "read_yolo_labels",
    "read_yolo_names",
    "register_dataset",
    "report_path",
    "scan_box_csv",
    "scan_cbis_ddsm",
    "scan_cmmd",
    "scan_ddsm_boxes",
    "scan_inbreast",
    "scan_mini_mias",
    "scan_rsna",
    "scan_vindr",
    "scan_yolo_boxes",
]
