"""Inspection (GET) bodies per framework, in dev and cloud mode, signed or not."""

from test_core import case
from test_inngest.test_introspection import cases

served, test_case = case.suite(cases, sync=False)
