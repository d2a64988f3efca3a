"""REST v1 routes about a run besides the run itself, as the dev server answers them
(measured): its queued jobs and metadata sent to it.
"""

from __future__ import annotations

from inngest._engine import run_metadata, ulid
from inngest._engine.engine import Engine
from inngest._engine.http.replies import BASE_HEADERS, Response, respond, v1_error
from inngest._engine.models import JSON, Kind, QueueItem, Run, RunStatus
from inngest._engine.timeparse import rfc3339

# The environment id the dev server gives a run's data.
RUN_ENV_ID = "00000000-0000-4000-b000-000000000000"
JOBS_CACHE_MS = 5000
# The dev server's names of queue item kinds.
_JOB_KINDS = {
    Kind.START: "start", Kind.DISCOVERY: "edge", Kind.PLANNED_STEP: "edge",
    Kind.SLEEP_WAKE: "sleep", Kind.PAUSE_TIMEOUT: "pause", Kind.CRON: "cron",
    Kind.DEBOUNCE: "debounce", Kind.BATCH: "schedule-batch", Kind.TIMEOUT: "cancel",
}


class RunRoutes:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def jobs(self, run_id: str, **_: object) -> Response:
        """The run's queued work (its next call, a sleep's wake-up, a wait's timeout)."""
        if not ulid.is_ulid(run_id):
            return v1_error(400, f"Invalid run ID: {run_id}")
        run = self.engine.store.run(run_id)
        if run is None or run.status is RunStatus.SKIPPED:  # measured: a skipped run is none
            return v1_error(404, f"Unable to load function run: {run_id}")
        queued = self.engine.store.items()
        now = self.engine.clock.now_ms()
        return respond(200, {
            "data": [self._job(run, item, queued) for item in queued if item.run_id == run_id],
            "metadata": {"fetched_at": rfc3339(now), "cached_until": rfc3339(now + JOBS_CACHE_MS)},
        })

    def _job(self, run: Run, item: QueueItem, queued: list[QueueItem]) -> dict[str, JSON]:
        """A job as the dev server lists it; ``Raw`` holds the fields of its queue item that
        ours has too."""
        kind = _JOB_KINDS.get(item.kind, item.kind.value)
        line = [other.id for other in queued if other.partition == item.partition]
        fn = self.engine.store.function(run.function_id)
        return {
            "JobID": str(item.id), "at": rfc3339(item.available_at_ms),
            "position": line.index(item.id), "kind": kind, "attempt": item.attempt,
            "Raw": {
                "id": str(item.id), "at": item.available_at_ms, "wt": item.available_at_ms,
                "wfID": run.function_id, "wsID": RUN_ENV_ID,
                "data": {
                    "wsID": RUN_ENV_ID, "kind": kind,
                    "identifier": {
                        "runID": run.id, "wID": run.function_id,
                        "evtID": run.event_ids[0] if run.event_ids else None,
                        "eventIDs": list(run.event_ids), "wsID": RUN_ENV_ID,
                        "appID": fn.app_id if fn else None},
                    "atts": item.attempt, "maxAtts": fn.max_attempts if fn else None,
                },
            },
        }

    def add_metadata(self, run_id: str, body: bytes, **_: object) -> Response:
        """Metadata for the run or one of its steps; the dev server answers 200 with no body,
        also for a run it does not know (nothing is kept then)."""
        if not ulid.is_ulid(run_id):
            return v1_error(400, f"Invalid run ID: {run_id}")
        try:
            request = run_metadata.read(body)
            if self.engine.store.run(run_id) is not None:
                run_metadata.apply(self.engine.store, run_id, request,
                                   self.engine.clock.now_ms())
        except run_metadata.MetadataError as err:
            return v1_error(err.status, err.message)
        return 200, dict(BASE_HEADERS), b""
