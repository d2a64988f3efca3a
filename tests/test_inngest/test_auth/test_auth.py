"""Signed execution requests (POST) to cloud-mode apps, per framework."""

from test_core import case
from test_inngest.test_auth import cases

served, test_case = case.suite(cases, sync=False)
