"""The embedded Inngest-compatible engine behind ``python -m inngest dev``.

``http.server.DevServer`` composes the parts: ``store`` (SQLite state) and ``queue`` (durable
work items with one admission hook for ``flow`` control), ``runner`` (events to runs, pauses,
cron), ``executor`` (SDK calls and opcodes, read by ``responses``), ``lifecycle`` (memoizing
steps and ending runs), ``registration`` and ``discovery`` (app sync), ``http.api`` (HTTP
routes), ``graphql`` (the API the UI and tests query), ``cel`` (trigger, ``if`` and key
expressions).
"""
