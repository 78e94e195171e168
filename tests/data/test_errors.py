"""Typed read errors keep their type and message through pickling and DataLoader workers."""

from __future__ import annotations

import pickle

import pytest
from torch.utils.data import DataLoader, Dataset

from monai_mammo.data.errors import MammoReadError, MissingCodecError, TruncatedFileError


def test_message_names_file_cause_and_fix() -> None:
    err = MissingCodecError("a.dcm", "JPEG 2000 needs a decoder.", "pip install monai_mammo[dicom]")
    assert str(err) == "a.dcm: JPEG 2000 needs a decoder. Fix: pip install monai_mammo[dicom]"
    assert isinstance(err, ValueError)


def test_pickle_round_trip() -> None:
    err = pickle.loads(pickle.dumps(TruncatedFileError("b.dcm", "ends early.")))
    assert type(err) is TruncatedFileError and err.filename == "b.dcm" and err.cause == "ends early."


class _Broken(Dataset):
    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> int:
        raise TruncatedFileError("c.dcm", "pixel data ends after 10 of 100 bytes.")


def test_type_survives_a_dataloader_worker() -> None:
    loader = DataLoader(_Broken(), num_workers=1)
    with pytest.raises(MammoReadError, match="c.dcm: pixel data ends after 10 of 100 bytes"):
        next(iter(loader))
