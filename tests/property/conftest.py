"""Hypothesis settings for the property suite: reproducible in CI, no per-example deadline.

Every test runs ``EXAMPLES`` generated cases unless it says otherwise; ``derandomize`` makes
each run draw the same cases, so a failure in CI fails the same way on a laptop.
``HYPOTHESIS_PROFILE=explore`` draws fresh random cases instead (with a local database).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = 10_000
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

settings.register_profile("ci", max_examples=EXAMPLES, deadline=None, derandomize=True,
                          database=None, suppress_health_check=_QUIET, print_blob=True)
settings.register_profile("explore", max_examples=EXAMPLES, deadline=None,
                          suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
