"""Fixtures shared by the reader tests."""

from __future__ import annotations

import numpy as np
import pytest
from reader_helpers import cbis_crop


@pytest.fixture(scope="module")
def base(shared_data) -> np.ndarray:
    """The 512 x 416 uint16 crop of a real CBIS-DDSM mammogram (see ``reader_helpers.cbis_crop``)."""
    return cbis_crop(shared_data)
