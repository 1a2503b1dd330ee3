"""The offline detector as `make install` leaves it (a missing model fails these tests: no skip)."""

from __future__ import annotations

import pytest

from core.estimator.detector_setup import installed_model
from core.estimator.vision import NanoDetProvider


@pytest.fixture(scope="session")
def detector() -> NanoDetProvider:
    path = installed_model()
    assert path is not None, "the detector is not installed: run `make install`"
    return NanoDetProvider(path)
