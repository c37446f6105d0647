"""The monitor raises the collector's first threshold, and never lowers it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from infradex.monitor.service import YOUNG_GC_THRESHOLD, young_collections_less_often


@pytest.fixture(autouse=True)
def thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_the_first_threshold_is_raised_and_the_others_kept() -> None:
    gc.set_threshold(700, 10, 10)
    young_collections_less_often()
    assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, 10, 10)


def test_a_higher_threshold_set_by_the_application_stays() -> None:
    gc.set_threshold(50_000, 5, 7)
    young_collections_less_often()
    assert gc.get_threshold() == (50_000, 5, 7)
