"""Hypothesis profiles of the fuzz suite: "ci" (default, small, reproducible) and "long".

The profile is picked by the env var HYPOTHESIS_PROFILE and applied to the fuzz tests only
(support.fuzz_settings), so loading this directory never changes other tests' settings.
"long" takes its budget from FUZZ_EXAMPLES (default 20000) and its seed from pytest's
--hypothesis-seed (scripts/fuzz passes FUZZ_SEED there), so a failure can be replayed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

LONG_EXAMPLES = 20_000
# ~205 cases x 100 examples stay well under a minute on two shared CPUs (the issue asks < 60 s).
CI_EXAMPLES = 100
# Structured strategies filter and draw a lot on purpose; no test here is about speed.
_QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

settings.register_profile(
    "ci",
    max_examples=CI_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=_QUIET,
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", str(LONG_EXAMPLES))),
    deadline=None,
    derandomize=False,
    database=None,
    print_blob=True,
    suppress_health_check=_QUIET,
)


@pytest.fixture(autouse=True)
def no_unhandled_task_errors() -> Iterator[None]:
    """Overrides the root fixture of that name for this directory: no asyncio loop, no gc pass.

    The fuzz tests are synchronous (the few that need a loop run their own and wait for every
    task they start), so the root fixture's loop watches nothing here, while its per-test loop
    and gc pass would cost a quarter of the suite's time budget.
    """
    yield
