"""App sync against a fake Cloud, per framework: keys, fallback, env, in-band, failures."""

from test_core import case
from test_inngest.test_registration import cases

served, test_case = case.suite(cases, sync=False)
