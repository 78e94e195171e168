"""Shared settings and case counting of the property-based (hypothesis) fuzz tests.

The normal suite runs a fixed, derandomized number of examples per test (the same cases on every run and
machine, no example database); ``MONAI_MAMMO_FUZZ_EXAMPLES=N`` sets every fuzz test to ``N`` examples, and
the ``slow`` marker holds a run 10 times larger (``pytest -m slow tests/reliability``).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings

FUZZ_EXAMPLES_ENV = "MONAI_MAMMO_FUZZ_EXAMPLES"
SLOW_FACTOR = 10


def fuzz_settings(max_examples: int) -> Callable[[Any], Any]:
    """The hypothesis settings of a fuzz test: ``max_examples`` (or ``$MONAI_MAMMO_FUZZ_EXAMPLES``) cases.

    Args:
        max_examples: the number of cases in the normal suite.

    Returns:
        A ``hypothesis.settings`` object, usable as a decorator.
    """
    n = int(os.environ.get(FUZZ_EXAMPLES_ENV) or max_examples)
    return settings(
        max_examples=n,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


class CaseCounter:
    """Counts the cases a fuzz test ran, by outcome (``ok`` or the error type), per test."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}

    def add(self, test: str, outcome: str) -> None:
        """Count one case of ``test`` with ``outcome``."""
        self.counts.setdefault(test, Counter())[outcome] += 1

    def total(self, test: str) -> int:
        """The cases ``test`` ran so far."""
        return sum(self.counts.get(test, Counter()).values())

    def as_dict(self) -> dict[str, dict[str, int]]:
        """``{test: {outcome: count}}``, with a ``total`` per test."""
        return {
            t: {**dict(sorted(c.items())), "total": sum(c.values())} for t, c in sorted(self.counts.items())
        }
