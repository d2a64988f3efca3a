"""Names of the ``x-inngest-*`` HTTP headers, in the lower case both sides send."""

from __future__ import annotations

import typing


class Header:
    ENV: typing.Final = "x-inngest-env"
    EVENT_ID_SEED: typing.Final = "x-inngest-event-id-seed"
    EXPECTED_SERVER_KIND: typing.Final = "x-inngest-expected-server-kind"
    FORCE_STEP_PLAN: typing.Final = "x-inngest-force-step-plan"
    FRAMEWORK: typing.Final = "x-inngest-framework"
    JOB_ID: typing.Final = "x-inngest-job-id"
    NO_RETRY: typing.Final = "x-inngest-no-retry"
    REQ_VERSION: typing.Final = "x-inngest-req-version"
    SDK: typing.Final = "x-inngest-sdk"
    SDK_HANDLED: typing.Final = "x-inngest-sdk-handled"
    SERVER_KIND: typing.Final = "x-inngest-server-kind"
    SIGNATURE: typing.Final = "x-inngest-signature"
    STEP_ID: typing.Final = "x-inngest-step-id"
    SYNC_KIND: typing.Final = "x-inngest-sync-kind"
