"""Build the training datalist of the shipped weights from the real data beside the project.

The classifier is trained on patches cut from each image and its lesion mask (see the model card), so every
item needs a mask: the sources, masks and patient-level splits are those of
:func:`monai_mammo.data.datasets.training_sources.build_training_folds` (DDSM lesion boxes, mini-MIAS,
CDD-CESM, optional phantoms), the same women held out as in ``mammo_lesion_segmentation``. Items have
``image``, ``label`` (lesion mask), ``class`` (0 normal, 1 benign, 2 malignant, -1 unknown pathology: used for
background patches only), ``patient_id``, ``laterality``, ``view``, ``source``.
Writes ``<out>/datalist.json``, ``<out>/test_<source>.json`` and ``<out>/test_all.json`` (test folds, for
``evaluate.json``)::

    B=bundles/mammo_classification
    python $B/scripts/prepare_training_data.py --out $B/runs/train_data
"""

from __future__ import annotations

from pathlib import Path

from monai_mammo.data.datasets.training_sources import prepare_training_data

if __name__ == "__main__":
    prepare_training_data(
        "mammo_classification",
        __doc__.splitlines()[0],
        Path(__file__).resolve().parents[3].parent / "shared" / "data",
    )
