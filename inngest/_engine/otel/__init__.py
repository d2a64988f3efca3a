"""OpenTelemetry spans an app sends about its runs (``POST /v1/traces/userland``), shown in
a run's trace as userland spans."""
