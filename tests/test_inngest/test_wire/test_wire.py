"""Raw responses the dev server receives from apps of each framework."""

from test_core import case
from test_inngest.test_wire import cases

served, test_case = case.suite(cases, sync=False)
