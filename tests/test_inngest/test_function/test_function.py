"""Every function case, served by each framework and driven by the dev server."""

from test_core import case
from test_inngest.test_function import cases

served, test_case = case.suite(cases)
