"""SQLite persistence: every piece of state a restarted engine needs to carry on."""

from __future__ import annotations

import dataclasses
import functools
import json.encoder
import os
import sqlite3
import threading
import typing

from inngest._engine.checkpointer import Checkpointer
from inngest._engine.errors import EngineError
from inngest._engine.models import (
    JSON, PRIORITY_LIMIT_S, App, Function, Pause, QueueItem, Run, RunStatus, StoredEvent,
)
from inngest._engine.payload import Object, as_object, dump, load
from inngest._protocol import jcs
from inngest._protocol.step_ids import hash_step_id

_SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, url TEXT NOT NULL, data TEXT NOT NULL,
    place INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS removed_apps (
    id TEXT PRIMARY KEY, data TEXT NOT NULL, place INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS functions (
    id TEXT PRIMARY KEY, app_id TEXT NOT NULL, slug TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL);
-- No AUTOINCREMENT (engines before had it): events are never deleted, so a new event's seq
-- is the largest plus one all the same, and storing one writes a page less.
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY, internal_id TEXT UNIQUE NOT NULL,
    name TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, function_id TEXT NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run_events (
    event_id TEXT NOT NULL, run_id TEXT NOT NULL, PRIMARY KEY (event_id, run_id));
CREATE TABLE IF NOT EXISTS steps (
    run_id TEXT NOT NULL, step_id TEXT NOT NULL, seq INTEGER NOT NULL, value TEXT NOT NULL,
    canon TEXT, PRIMARY KEY (run_id, step_id));
CREATE TABLE IF NOT EXISTS step_info (
    run_id TEXT NOT NULL, step_id TEXT NOT NULL, name TEXT NOT NULL, op TEXT NOT NULL,
    PRIMARY KEY (run_id, step_id));
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT UNIQUE, run_id TEXT NOT NULL,
    due INTEGER NOT NULL, leased INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL,
    sort INTEGER NOT NULL DEFAULT 0, part TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS queue_due ON queue (leased, due);
CREATE INDEX IF NOT EXISTS queue_run ON queue (run_id);
CREATE TABLE IF NOT EXISTS pauses (
    id TEXT PRIMARY KEY, run_id TEXT NOT NULL, event_name TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS pauses_event ON pauses (event_name);
CREATE INDEX IF NOT EXISTS pauses_run ON pauses (run_id);
CREATE TABLE IF NOT EXISTS dedupe (key TEXT PRIMARY KEY, expires_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS gcra (key TEXT PRIMARY KEY, tat INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS run_metadata (
    run_id TEXT NOT NULL, target TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL, PRIMARY KEY (run_id, target, kind));
CREATE TABLE IF NOT EXISTS userland_spans (
    run_id TEXT NOT NULL, span_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (run_id, span_id));
CREATE TABLE IF NOT EXISTS invoke_keys (
    function_id TEXT NOT NULL, key TEXT NOT NULL, run_id TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL, PRIMARY KEY (function_id, key));
-- No AUTOINCREMENT either (engines before had it): history items are never deleted, and
-- each SDK call stores three, each of which updated sqlite_sequence too.
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, run_id TEXT NOT NULL,
    data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_run ON history (run_id, seq);
CREATE TABLE IF NOT EXISTS cancellations (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS defers (
    run_id TEXT NOT NULL, hashed_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (run_id, hashed_id));
CREATE TABLE IF NOT EXISTS buffers (
    kind TEXT NOT NULL, function_id TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (kind, function_id, key));
"""

# The database's ``PRAGMA user_version`` once ``Store._upgrade`` has brought it up to date:
# 1, step metadata keyed by the hashed step id (an engine before kept the id as given).
_DATA_VERSION = 1

_template_lock = threading.Lock()


@functools.cache
def _schema_template() -> sqlite3.Connection:
    template = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    template.executescript(_SCHEMA)
    template.execute(f"PRAGMA user_version = {_DATA_VERSION}")  # a new database is current
    return template


def _copy_schema(conn: sqlite3.Connection) -> None:
    """Give an empty in-memory database the schema by copying one built once per process:
    a tenth of the time of running the script, for engines made per test."""
    with _template_lock:
        _schema_template().backup(conn)


# How far behind its due time priority can push an item's sort key.
MAX_PRIORITY_MS = PRIORITY_LIMIT_S * 1000
_MAX_INT = 2**63 - 1

TEMPORARY = ""
"""The path of a database that lasts as long as its store (kept on disk, not in memory)."""

_RUN_CACHE_SIZE = 256
# The most memo bytes a run may have for its memos' canonical texts to be kept in memory.
_KEPT_STEP_BYTES = 16 * 1024
_EVENT_CACHE_SIZE = 512

# Stored in a step's canon column when its value has no canonical JSON.
_NO_CANON = ""

QueuePosition = tuple[int, int]
"""Where an item sits in the queue order: (sort key, row id)."""
Row = tuple[object, ...]


class StoreError(EngineError):
    """A column holding another type than the schema gives it: the database was altered."""

    code = "store_invalid"


class _Transaction:
    """``Store.transaction``'s context manager (a class: it is entered many times per call,
    and a generator-based one costs several times more)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._store._begin()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._store._end(failed=kind is not None)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    raise StoreError(f"expected a text column, not {type(value).__name__}")


def _int(value: object) -> int:
    if isinstance(value, int):
        return value
    raise StoreError(f"expected an integer column, not {type(value).__name__}")


def _json(value: object) -> JSON:
    return load(_text(value))


def _record(value: object) -> Object:
    """A stored record's JSON object (every ``data`` column holds one)."""
    return as_object(_json(value), "stored record")


_quoted = json.encoder.encode_basestring


def _item_text(item: QueueItem) -> str:
    """``dump(item.to_dict())``, written out: each SDK call queues the next. (A test checks
    it against that for every field.)"""
    job_id = "null" if item.job_id is None else _quoted(item.job_id)
    return (f'{{"kind":{_quoted(item.kind.value)},"available_at_ms":{item.available_at_ms},'
            f'"run_id":{_quoted(item.run_id)},"payload":{dump(item.payload)},'
            f'"attempt":{item.attempt},"partition":{_quoted(item.partition)},'
            f'"key":{_quoted(item.key)},"priority_ms":{item.priority_ms},"job_id":{job_id},'
            f'"id":{item.id}}}')


def _event_text(event: StoredEvent) -> str:
    """``dump(event.to_dict())``, written out around the event's own JSON."""
    return (f'{{"internal_id":{_quoted(event.internal_id)},"event":{dump(event.event)},'
            f'"received_at_ms":{event.received_at_ms},"seq":{event.seq}}}')


def _run_text(run: Run) -> str:
    """``dump(run.to_dict())``, written out: the encoder spent a third more on a new run's
    27 fields, most of them null. (A test checks it against that for every field.)"""
    return (f'{{"id":{_quoted(run.id)},"function_id":{_quoted(run.function_id)},'
            f'"function_version":{run.function_version},"event_ids":{dump(run.event_ids)},'
            f'"created_at_ms":{run.created_at_ms},"event_seq":{run.event_seq},'
            f'"status":{_quoted(run.status.value)},"started_at_ms":{dump(run.started_at_ms)},'
            f'"ended_at_ms":{dump(run.ended_at_ms)},"output":{dump(run.output)},'
            f'"has_output":{_bool_text(run.has_output)},'
            f'"output_is_text":{_bool_text(run.output_is_text)},'
            f'"failed_at_limit":{_str_or_null(run.failed_at_limit)},"version":{run.version},'
            f'"force_step_plan":{_bool_text(run.force_step_plan)},'
            f'"pending_steps":{dump(run.pending_steps)},"batch_id":{_str_or_null(run.batch_id)},'
            f'"cron":{_str_or_null(run.cron)},'
            f'"correlation_id":{_str_or_null(run.correlation_id)},'
            f'"reason":{_str_or_null(run.reason)},"priority_s":{run.priority_s},'
            f'"singleton_key":{_str_or_null(run.singleton_key)},'
            f'"skip_existing_run_id":{_str_or_null(run.skip_existing_run_id)},'
            f'"step_inputs":{dump(run.step_inputs)},"reused_steps":{dump(run.reused_steps)},'
            f'"debug_session_id":{_str_or_null(run.debug_session_id)},'
            f'"debug_run_id":{_str_or_null(run.debug_run_id)}}}')


def _str_or_null(value: str | None) -> str:
    return "null" if value is None else _quoted(value)


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _utf8_size(text: str) -> int:
    """Bytes of ``text`` as SQLite stores it (``LENGTH(CAST(text AS BLOB))``)."""
    return len(text.encode("utf-8", "surrogatepass"))


def _canonical_or_none(text: str, value: JSON) -> str | None:
    """The canonical JSON of ``value`` (stored as ``text``): None if it is ``text``, and
    ``_NO_CANON`` if there is none (NaN or Infinity): a request carrying it then fails."""
    try:
        canon = jcs.canonicalize(value).decode("utf-8")
    except ValueError:
        return _NO_CANON
    return None if canon == text else canon


@dataclasses.dataclass(frozen=True)
class EventFilter:
    """Which stored events a list shows: the engine's own (``inngest/``) events only when
    ``internal``; times are when the engine received them, both bounds included."""

    names: typing.Sequence[str] = ()
    internal: bool = False
    before_id: str | None = None
    received_after_ms: int | None = None
    received_before_ms: int | None = None


def _event_conditions(which: EventFilter) -> tuple[str, list[object]]:
    where, args = ["1"], list[object]()
    if not which.internal:
        where.append("name NOT LIKE 'inngest/%'")
    if which.names:
        where.append(f"name IN ({', '.join('?' * len(which.names))})")
        args.extend(which.names)
    if which.before_id is not None:
        where.append("internal_id < ?")
        args.append(which.before_id)
    if which.received_after_ms is not None:
        where.append("json_extract(data, '$.received_at_ms') >= ?")
        args.append(which.received_after_ms)
    if which.received_before_ms is not None:
        where.append("json_extract(data, '$.received_at_ms') <= ?")
        args.append(which.received_before_ms)
    return " AND ".join(where), args


def _queue_item(item_id: object, data: object) -> QueueItem:
    return QueueItem.from_dict({**_record(data), "id": _int(item_id)})


K = typing.TypeVar("K")
V = typing.TypeVar("V")


def _keep_recent(cache: dict[K, V], key: K, value: V) -> V:
    """Keep ``value`` as the newest of at most ``_RUN_CACHE_SIZE`` entries, dropping the
    oldest when full (clearing them all would drop the runs in progress too)."""
    cache.pop(key, None)
    if len(cache) >= _RUN_CACHE_SIZE:
        del cache[next(iter(cache))]
    cache[key] = value
    return value


class Store:
    """One SQLite connection guarded by a re-entrant lock; ``transaction`` groups writes."""

    def __init__(self, path: str = ":memory:") -> None:
        """``path`` is a file, ``":memory:"``, or ``TEMPORARY``: a private file that SQLite
        deletes on close, so stored outputs live on disk (beyond a small page cache), not in
        the engine's memory."""
        on_file = path not in (":memory:", TEMPORARY)
        if on_file:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._depth = 0
        self._after_commit: list[typing.Callable[[], None]] = []
        self._on_commit: list[typing.Callable[[], None]] = []
        # Parsed functions: read for every event and SDK call, written only by syncs.
        self._function_cache: dict[str, Function] = {}
        self._active_functions: list[Function] | None = None
        self._run_cache: dict[str, Run] = {}
        # Each run's memo count and stored bytes, read on every call and changed only by
        # ``save_step``.
        self._step_totals: dict[str, tuple[int, int]] = {}
        # The canonical texts of the memos of small runs created here, in order: each call
        # sends them, and reading back the rows saved by the call before cost a query.
        self._step_texts: dict[str, list[tuple[str, str]]] = {}
        # Events never change once stored: each call reads its run's trigger events and
        # their size, so both are kept (dropped on a rollback, which may undo an insert).
        self._event_cache: dict[str, tuple[StoredEvent, int]] = {}
        # Runs created here that hold no defers (each call lists its run's defers), and
        # that have no pauses (its end deletes them): almost no run has any.
        self._without_defers: set[str] = set()
        self._without_pauses: set[str] = set()
        # Every event name a stored pause waits for (maybe more): most events have none,
        # and this spares them the pauses query.
        self._pause_names: set[str] = set()
        self._transaction = _Transaction(self)
        self._checkpointer: Checkpointer | None = None
        if on_file:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            # Checkpoints run in the background (checkpointer.py), not in a commit.
            self._conn.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = Checkpointer(path)
        elif path == TEMPORARY:
            # Nothing in a temporary database outlives the engine: no commit needs a sync,
            # and the rollback journal can stay in memory (a journal file created and
            # deleted by each commit cost a fifth of the engine's time per SDK call).
            self._conn.execute("PRAGMA synchronous=OFF")
            self._conn.execute("PRAGMA journal_mode=MEMORY")
        if path == ":memory:":
            _copy_schema(self._conn)
        else:
            self._conn.executescript(_SCHEMA)
        self._add_missing_columns()
        self._upgrade()
        self._conn.execute("CREATE INDEX IF NOT EXISTS queue_sort ON queue (leased, sort)")
        self._load_pause_names()
        if self._checkpointer is not None:
            self._checkpointer.start()

    def _add_missing_columns(self) -> None:
        """Bring a database written by an older engine up to the current schema."""
        columns = {row[1] for row in self._rows("PRAGMA table_info(queue)")}
        if "sort" not in columns:
            self._conn.execute("ALTER TABLE queue ADD COLUMN sort INTEGER NOT NULL DEFAULT 0")
            self._sort_existing_items()
        if "part" not in columns:
            self._conn.execute("ALTER TABLE queue ADD COLUMN part TEXT NOT NULL DEFAULT ''")
            self._copy_existing_partitions()
        if "canon" not in {row[1] for row in self._rows("PRAGMA table_info(steps)")}:
            self._conn.execute("ALTER TABLE steps ADD COLUMN canon TEXT")
            self._canonicalize_existing_steps()
        if "place" not in {row[1] for row in self._rows("PRAGMA table_info(apps)")}:
            with self.transaction():
                for table in ("apps", "removed_apps"):
                    self._conn.execute(
                        f"ALTER TABLE {table} ADD COLUMN place INTEGER NOT NULL DEFAULT 0")
                # Apps were listed in the order they were stored; an archived app's place
                # was lost, and a sync reviving it gives it a new one.
                self._conn.execute("UPDATE apps SET place = rowid")

    def _upgrade(self) -> None:
        """Bring the rows of a database written by an older engine to the current form,
        once (its ``user_version`` then says so)."""
        version = _int(self._rows("PRAGMA user_version")[0][0])
        if version >= _DATA_VERSION:
            return
        with self.transaction():
            self._hash_metadata_targets()
            self._conn.execute(f"PRAGMA user_version = {_DATA_VERSION}")

    def _hash_metadata_targets(self) -> None:
        """Key step metadata stored by the step's id as given ("id" or "id:index") by its
        hashed id, as it is now stored, so the trace shows it on the step's span. A target
        that is already one of its run's hashed step ids was written by an engine that
        hashed it but did not mark the database, and is kept."""
        rows = self._rows("SELECT rowid, run_id, target FROM run_metadata WHERE target != ''")
        if not rows:
            return
        known = {(run_id, step_id) for run_id, step_id in self._rows(
            "SELECT run_id, step_id FROM steps UNION SELECT run_id, step_id FROM step_info")}
        for rowid, run_id, target in rows:
            if (run_id, target) not in known:
                self._conn.execute("UPDATE OR REPLACE run_metadata SET target = ? WHERE rowid = ?",
                                   (hash_step_id(_text(target)), rowid))

    def _sort_existing_items(self) -> None:
        """Give rows written before the sort column their key: due time minus priority."""
        with self.transaction():
            for item_id, due, data in self._rows("SELECT id, due, data FROM queue"):
                priority = _record(data).get("priority_ms")
                if not isinstance(priority, int) or isinstance(priority, bool):
                    priority = 0
                self._conn.execute(
                    "UPDATE queue SET sort = ? WHERE id = ?", (_int(due) - priority, item_id)
                )

    def _copy_existing_partitions(self) -> None:
        """Fill the partition column of rows written before it existed."""
        with self.transaction():
            for item_id, data in self._rows("SELECT id, data FROM queue"):
                self._conn.execute(
                    "UPDATE queue SET part = ? WHERE id = ?",
                    (_queue_item(item_id, data).partition, item_id),
                )

    def _canonicalize_existing_steps(self) -> None:
        """Give step rows written before the canon column their canonical text."""
        with self.transaction():
            for rowid, value in self._rows("SELECT rowid, value FROM steps"):
                self._conn.execute("UPDATE steps SET canon = ? WHERE rowid = ?",
                                   (_canonical_or_none(_text(value), _json(value)), rowid))

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._lock:
            self._conn.close()

    def transaction(self) -> typing.ContextManager[None]:
        """Group writes: the outermost block commits them, or rolls all back if it raises."""
        return self._transaction

    def _begin(self) -> None:
        self._lock.acquire()
        if self._depth == 0:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._lock.release()
                raise
        self._depth += 1

    def _end(self, failed: bool) -> None:
        self._depth -= 1
        if self._depth:  # a nested block: the outermost one ends the transaction
            self._lock.release()
            return
        try:
            actions, self._after_commit = self._after_commit, []
            committed, self._on_commit = self._on_commit, []
            if failed:
                self._conn.execute("ROLLBACK")
                self._forget_caches()
            else:
                self._conn.execute("COMMIT")
                actions += committed
        finally:
            self._lock.release()
        for action in actions:
            action()

    def _forget_caches(self) -> None:
        """After a rollback, which may undo what the caches hold."""
        self._forget_functions()
        self._event_cache.clear()
        self._run_cache.clear()
        self._step_totals.clear()
        self._step_texts.clear()
        self._without_defers.clear()
        self._without_pauses.clear()
        self._load_pause_names()

    def after_commit(self, action: typing.Callable[[], None]) -> None:
        """Call ``action`` once the open transaction has ended (at once outside one).

        For wake-ups: a thread woken in the middle of a transaction finds the store locked
        and goes back to sleep, and the one it interrupted has lost its time slice."""
        with self._lock:
            if self._depth:
                self._after_commit.append(action)
                return
        action()

    def on_commit(self, action: typing.Callable[[], None]) -> None:
        """Call ``action`` once the open transaction has committed (never, if it rolls
        back; at once outside one)."""
        with self._lock:
            if self._depth:
                self._on_commit.append(action)
                return
        action()

    def _rows(self, sql: str, *args: object) -> list[Row]:
        with self._lock:
            rows: list[Row] = self._conn.execute(sql, args).fetchall()
            return rows

    def _write(self, sql: str, *args: object) -> int:
        """Run one statement atomically; returns the number of rows changed.

        Outside a transaction the statement commits on its own (autocommit), which is
        atomic and saves the BEGIN and COMMIT round trips."""
        with self._lock:
            return self._conn.execute(sql, args).rowcount

    # Apps and functions

    def put_app(self, app: App, *, archived: bool = False) -> None:
        """Store an app; a sync revives an archived one, an archived one stays archived
        when only its record changes (``archived``)."""
        if archived:
            self._write("INSERT INTO removed_apps (id, data) VALUES (?, ?)"
                        " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                        app.id, dump(app.to_dict()))
            return
        with self.transaction():
            self._forget_functions()
            place = self._place_of_removed(app.id) or self._next_place()
            self._conn.execute("DELETE FROM removed_apps WHERE id = ?", (app.id,))
            # An upsert, not a replace: the app keeps its place (see ``apps_by_url``).
            self._conn.execute(
                "INSERT INTO apps (id, name, url, data, place) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url,"
                " data = excluded.data",
                (app.id, app.name, app.url, dump(app.to_dict()), place))

    def _place_of_removed(self, app_id: str) -> int:
        rows = self._rows("SELECT place FROM removed_apps WHERE id = ?", app_id)
        return _int(rows[0][0]) if rows else 0

    def _next_place(self) -> int:
        rows = self._rows("SELECT MAX(place) FROM (SELECT place FROM apps"
                          " UNION ALL SELECT place FROM removed_apps)")
        return _int(rows[0][0] or 0) + 1

    def apps(self) -> list[App]:
        """The apps not archived, by id (as the dev server lists them)."""
        return [App.from_dict(_record(r[0]))
                for r in self._rows("SELECT data FROM apps ORDER BY id")]

    def app(self, app_id: str) -> App | None:
        rows = self._rows("SELECT data FROM apps WHERE id = ?", app_id)
        return App.from_dict(_record(rows[0][0])) if rows else None

    def app_of_runs(self, app_id: str) -> App | None:
        """The app, archived or not: its runs still name it."""
        rows = self._rows("SELECT data FROM removed_apps WHERE id = ?", app_id)
        return self.app(app_id) or (App.from_dict(_record(rows[0][0])) if rows else None)

    def apps_by_url(self, url: str) -> list[App]:
        """The apps at ``url``, first synced first (as the dev server finds them): an app
        archived and synced again keeps its place, as the dev server's row does."""
        rows = self._rows("SELECT data FROM apps WHERE url = ? ORDER BY place", url)
        return [App.from_dict(_record(r[0])) for r in rows]

    def archived_apps(self) -> list[App]:
        return [App.from_dict(_record(r[0]))
                for r in self._rows("SELECT data FROM removed_apps")]

    def delete_app(self, app_id: str, now_ms: int) -> None:
        """Archive the app at ``now_ms``, as the dev server does: it is listed only among
        archived apps and its functions no longer run, but it and its functions are still
        found by id and by slug, and a sync of it revives it in its place."""
        with self.transaction():
            app = self.app(app_id)
            if app is None:
                return
            self._forget_functions()
            self._conn.execute(
                "INSERT OR REPLACE INTO removed_apps (id, data, place)"
                " SELECT id, ?, place FROM apps WHERE id = ?",
                (dump(app.replace(archived_at_ms=now_ms).to_dict()), app_id))
            self._conn.execute("DELETE FROM apps WHERE id = ?", (app_id,))

    def _forget_functions(self) -> None:
        self._function_cache.clear()
        self._active_functions = None

    def put_function(self, fn: Function) -> None:
        with self.transaction():
            self._forget_functions()
            self._conn.execute(
                "INSERT OR REPLACE INTO functions (id, app_id, slug, archived, data)"
                " VALUES (?, ?, ?, 0, ?)",
                (fn.id, fn.app_id, fn.slug, dump(fn.to_dict())),
            )

    def archive_functions(self, app_id: str, keep: typing.Collection[str]) -> None:
        with self.transaction():
            self._forget_functions()
            for (fn_id,) in self._rows(
                "SELECT id FROM functions WHERE app_id = ? AND archived = 0", app_id
            ):
                if fn_id not in keep:
                    self._conn.execute("UPDATE functions SET archived = 1 WHERE id = ?", (fn_id,))

    def functions(self, app_id: str | None = None) -> list[Function]:
        if app_id is not None:
            rows = self._rows(
                "SELECT data FROM functions WHERE archived = 0 AND app_id = ?", app_id
            )
            return [Function.from_dict(_record(r[0])) for r in rows]
        with self._lock:
            if self._active_functions is None:
                rows = self._rows("SELECT data FROM functions WHERE archived = 0"
                                  " AND app_id IN (SELECT id FROM apps)")
                self._active_functions = [Function.from_dict(_record(r[0])) for r in rows]
            return list(self._active_functions)

    def function(self, fn_id: str) -> Function | None:
        """A function by UUID, archived ones included (old runs still refer to them)."""
        with self._lock:
            cached = self._function_cache.get(fn_id)
            if cached is not None:
                return cached
            rows = self._rows("SELECT data FROM functions WHERE id = ?", fn_id)
            if not rows:
                return None
            fn = self._function_cache[fn_id] = Function.from_dict(_record(rows[0][0]))
            return fn

    def function_by_slug(self, slug: str, *, synced: bool = False) -> Function | None:
        """The function with the slug, preferring one still synced; with ``synced``, only
        one still synced (its app may be archived)."""
        rows = self._rows(
            "SELECT data FROM functions WHERE slug = ? AND archived <= ? ORDER BY archived"
            " LIMIT 1", slug, 0 if synced else 1)
        return Function.from_dict(_record(rows[0][0])) if rows else None

    # Events

    def add_event(self, event: StoredEvent) -> StoredEvent:
        """Store an event, and keep it: the run it starts reads it at once (flow control at
        the commit, then the run's first call)."""
        stored = self._insert_event(event, "")
        assert stored is not None
        return stored

    def add_new_event(self, event: StoredEvent) -> StoredEvent | None:
        """``add_event``, unless an event with its internal id is stored already (None)."""
        return self._insert_event(event, " ON CONFLICT (internal_id) DO NOTHING")

    def _insert_event(self, event: StoredEvent, on_conflict: str) -> StoredEvent | None:
        data = _event_text(event)
        with self._lock:  # one statement: atomic alone, or undone with the transaction it is in
            cursor = self._conn.execute(
                f"INSERT INTO events (internal_id, name, data) VALUES (?, ?, ?){on_conflict}",
                (event.internal_id, event.name, data),
            )
            if cursor.rowcount == 0:
                return None
            assert cursor.lastrowid is not None
            stored = StoredEvent(event.internal_id, event.event, event.received_at_ms,
                                 cursor.lastrowid)
            self._keep_event(stored, _utf8_size(data))
            return stored

    def event(self, internal_id: str) -> StoredEvent | None:
        cached = self._cached_event(internal_id)
        return cached[0] if cached is not None else None

    def _cached_event(self, internal_id: str) -> tuple[StoredEvent, int] | None:
        """The event and the bytes of its stored record."""
        with self._lock:
            cached = self._event_cache.get(internal_id)
            if cached is not None:
                return cached
            rows = self._rows("SELECT data, seq FROM events WHERE internal_id = ?", internal_id)
            if not rows:
                return None
            data = _text(rows[0][0])
            raw = dict(_record(data))
            raw["seq"] = _int(rows[0][1])
            return self._keep_event(StoredEvent.from_dict(raw), _utf8_size(data))

    def _keep_event(self, event: StoredEvent, size: int) -> tuple[StoredEvent, int]:
        if len(self._event_cache) >= _EVENT_CACHE_SIZE:
            self._event_cache.clear()
        cached = self._event_cache[event.internal_id] = (event, size)
        return cached

    def has_event(self, internal_id: str) -> bool:
        return bool(self._rows("SELECT 1 FROM events WHERE internal_id = ?", internal_id))

    def recent_events(self, limit: int, which: EventFilter = EventFilter()) -> list[StoredEvent]:
        """The events ``which`` keeps, newest first."""
        where, args = _event_conditions(which)
        rows = self._rows(
            f"SELECT data, seq FROM events WHERE {where} ORDER BY internal_id DESC LIMIT ?",
            *args, limit,
        )
        return [StoredEvent.from_dict({**_record(data), "seq": _int(seq)}) for data, seq in rows]

    def stream_events(self, after: str, before: str | None, limit: int,
                      internal: bool) -> list[StoredEvent]:
        """The newest ``limit`` events with ids strictly between the bounds: each event that
        started a run (was its first event; a skipped run is none), and the others whose name
        is an engine's own (``inngest/``) one exactly when ``internal``, as the dev server
        selects them."""
        rows = self._rows(
            "SELECT data, seq FROM events AS e WHERE internal_id > ?"
            " AND (? IS NULL OR internal_id < ?) AND (EXISTS ("
            "  SELECT 1 FROM run_events AS re JOIN runs AS r ON r.id = re.run_id"
            "  WHERE re.event_id = e.internal_id AND r.status != ?"
            "  AND json_extract(r.data, '$.event_ids[0]') = e.internal_id)"
            " OR (name LIKE 'inngest/%') = ?) ORDER BY internal_id DESC LIMIT ?",
            after, before, before, RunStatus.SKIPPED.value, internal, limit,
        )
        return [StoredEvent.from_dict({**_record(data), "seq": _int(seq)}) for data, seq in rows]

    def count_events(self, which: EventFilter) -> int:
        where, args = _event_conditions(which)
        return _int(self._rows(f"SELECT COUNT(*) FROM events WHERE {where}", *args)[0][0])

    def last_event_seq(self) -> int:
        return _int(self._rows("SELECT COALESCE(MAX(seq), 0) FROM events")[0][0])

    # Runs

    def add_run(self, run: Run) -> None:
        with self.transaction():
            self._conn.execute(
                "INSERT INTO runs (id, function_id, status, data) VALUES (?, ?, ?, ?)",
                (run.id, run.function_id, run.status.value, _run_text(run)),
            )
            for event_id in run.event_ids:
                self._conn.execute(
                    "INSERT OR IGNORE INTO run_events (event_id, run_id) VALUES (?, ?)",
                    (event_id, run.id),
                )
            self._keep_run(run)
            self._keep_totals(run.id, 0, 0)  # a new run has no memos yet
            if len(self._step_texts) >= _RUN_CACHE_SIZE:
                self._step_texts.clear()
            self._step_texts[run.id] = []
            for without in (self._without_defers, self._without_pauses):
                if len(without) >= _RUN_CACHE_SIZE:
                    without.clear()
                without.add(run.id)

    def run(self, run_id: str) -> Run | None:
        # A run is read several times per call. Every change to it goes through this store,
        # which keeps the (immutable) run it last read or wrote.
        with self._lock:
            cached = self._run_cache.get(run_id)
            if cached is not None:
                return cached
            rows = self._rows("SELECT data FROM runs WHERE id = ?", run_id)
            if not rows:
                return None
            run = Run.from_dict(_record(rows[0][0]))
            self._keep_run(run)
            return run

    def _keep_run(self, run: Run) -> None:
        _keep_recent(self._run_cache, run.id, run)

    def update_run(self, run_id: str, **changes: JSON) -> Run:
        with self.transaction():
            run = self.run(run_id)
            if run is None:
                raise KeyError(run_id)
            if "status" in changes and type(changes["status"]) is not RunStatus:
                changes["status"] = RunStatus(changes["status"])
            updated = run.replace(**changes)
            self._conn.execute(
                "UPDATE runs SET status = ?, data = ? WHERE id = ?",
                (updated.status.value, dump(updated.to_dict()), run_id),
            )
            self._keep_run(updated)
            return updated

    def runs_for_event(self, event_id: str, *, first_only: bool = True,
                       skipped: bool = False) -> list[Run]:
        """The runs ``event_id`` started: a batch's run counts for its first event only, as on
        the real server, unless not ``first_only``; skipped runs only with ``skipped``."""
        with self._lock:
            # Ids only: the runs are most often kept already (a client polls a recent run).
            rows = self._rows(
                "SELECT run_id FROM run_events WHERE event_id = ? ORDER BY run_id", event_id
            )
            runs = [self.run(_text(row[0])) for row in rows]
        return [run for run in runs if run is not None
                and (not first_only or run.event_ids[:1] == [event_id])
                and (skipped or run.status is not RunStatus.SKIPPED)]

    def active_runs(self, function_id: str) -> list[Run]:
        """The function's runs that have not ended yet."""
        rows = self._rows(
            "SELECT data FROM runs WHERE function_id = ? AND status IN (?, ?) ORDER BY id",
            function_id, RunStatus.QUEUED.value, RunStatus.RUNNING.value,
        )
        return [Run.from_dict(_record(r[0])) for r in rows]

    def runs(self, status: RunStatus | None = None) -> list[Run]:
        """The runs with ``status``; by default every run but the skipped ones, which the
        real server lists only among their event's runs."""
        if status is None:
            rows = self._rows("SELECT data FROM runs WHERE status != ? ORDER BY id",
                              RunStatus.SKIPPED.value)
        else:
            rows = self._rows("SELECT data FROM runs WHERE status = ? ORDER BY id", status.value)
        return [Run.from_dict(_record(r[0])) for r in rows]

    # Step memos

    def save_step(self, run_id: str, step_id: str, value: JSON, text: str | None = None) -> bool:
        """Memoize a step; a second save of the same id keeps the first value. ``text`` is
        ``dump(value)`` when the caller has it already.

        The value's canonical JSON (what each later request to the SDK carries) is kept
        too, when it differs from the stored text: requests paste it instead of decoding
        and encoding every earlier step again on each call.
        """
        if text is None:
            text = dump(value)
        canon = _canonical_or_none(text, value)
        with self.transaction():
            count, size = self._totals(run_id)
            saved = self._conn.execute(
                "INSERT OR IGNORE INTO steps (run_id, step_id, seq, value, canon)"
                " VALUES (?, ?, ?, ?, ?)",
                (run_id, step_id, count, text, canon),
            ).rowcount == 1
            if saved:
                size += _utf8_size(text)
                self._keep_totals(run_id, count + 1, size)
                self._keep_step_text(run_id, step_id, text if canon is None else canon, size)
            return saved

    def _keep_step_text(self, run_id: str, step_id: str, canon: str, size: int) -> None:
        texts = self._step_texts.get(run_id)
        if texts is None:
            return
        if canon == _NO_CANON or size > _KEPT_STEP_BYTES:
            del self._step_texts[run_id]
        else:
            texts.append((step_id, canon))

    def _totals(self, run_id: str) -> tuple[int, int]:
        """How many memos the run has, and their stored bytes."""
        with self._lock:
            totals = self._step_totals.get(run_id)
            if totals is None:
                [(count, size)] = self._rows(
                    "SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST(value AS BLOB))), 0) FROM steps"
                    " WHERE run_id = ?", run_id,
                )
                totals = self._keep_totals(run_id, _int(count), _int(size))
            return totals

    def _keep_totals(self, run_id: str, count: int, size: int) -> tuple[int, int]:
        return _keep_recent(self._step_totals, run_id, (count, size))

    def forget_run(self, run_id: str) -> None:
        """Drop what is kept in memory for an ended run's calls: each call of a run in
        progress reads it, and ended runs filled the space (which was then cleared for all
        at once, and the runs in progress read it all again from the database)."""
        with self._lock:
            self._step_totals.pop(run_id, None)
            self._step_texts.pop(run_id, None)
            self._without_defers.discard(run_id)
            self._without_pauses.discard(run_id)

    def step_count(self, run_id: str) -> int:
        """How many memos the run has (the depth of its stack)."""
        return self._totals(run_id)[0]

    def has_step(self, run_id: str, step_id: str) -> bool:
        """Whether the step's result (value or final error) is saved."""
        with self._lock:
            texts = self._step_texts.get(run_id)  # asked on every reply: spare the query
            if texts is not None:
                return any(saved == step_id for saved, _ in texts)
        return bool(self._rows(
            "SELECT 1 FROM steps WHERE run_id = ? AND step_id = ?", run_id, step_id
        ))

    def save_step_info(self, run_id: str, step_id: str, name: str, op: str) -> None:
        """Remember a step's user-facing name and opcode; the first record wins."""
        self._write(
            "INSERT OR IGNORE INTO step_info (run_id, step_id, name, op) VALUES (?, ?, ?, ?)",
            run_id, step_id, name, op,
        )

    def step_info(self, run_id: str) -> dict[str, tuple[str, str]]:
        """(name, opcode) of the run's reported steps by hashed step id."""
        rows = self._rows("SELECT step_id, name, op FROM step_info WHERE run_id = ?", run_id)
        return {_text(step_id): (_text(name), _text(op)) for step_id, name, op in rows}

    def state_bytes(self, run: Run) -> int:
        """Bytes of the run's state: its triggering events and every memoized step."""
        with self._lock:
            trigger_events = 0
            for event_id in set(run.event_ids):
                cached = self._cached_event(event_id)
                trigger_events += cached[1] if cached is not None else 0
            return self._totals(run.id)[1] + trigger_events

    def steps(self, run_id: str) -> list[tuple[str, JSON]]:
        """The run's memos in the order they were saved (the stack)."""
        rows = self._rows(
            "SELECT step_id, value FROM steps WHERE run_id = ? ORDER BY seq", run_id
        )
        return [(_text(step_id), _json(value)) for step_id, value in rows]

    def canonical_steps(self, run_id: str) -> list[tuple[str, str]]:
        """The run's memos in the order they were saved, as canonical JSON texts.

        Raises the encoder's ValueError for a value that has none.
        """
        with self._lock:
            texts = self._step_texts.get(run_id)
            if texts is not None:
                return list(texts)
        rows = self._rows(
            "SELECT step_id, COALESCE(NULLIF(canon, ?), value), canon = ? FROM steps"
            " WHERE run_id = ? ORDER BY seq", _NO_CANON, _NO_CANON, run_id,
        )
        for _, text, none in rows:
            if none:
                jcs.canonicalize(_json(text))
        return [(_text(step_id), _text(text)) for step_id, text, _ in rows]

    def step_ids(self, run_id: str) -> list[str]:
        """The run's memoized step ids in the order they were saved, without their values."""
        rows = self._rows("SELECT step_id FROM steps WHERE run_id = ? ORDER BY seq", run_id)
        return [_text(row[0]) for row in rows]

    # Run history

    def add_history(self, run_id: str, item_id: str, text: str) -> None:
        """Add one of the run's items: its id and its JSON text."""
        self._write("INSERT INTO history (id, run_id, data) VALUES (?, ?, ?)",
                    item_id, run_id, text)

    def add_history_items(self, run_id: str, rows: typing.Sequence[tuple[str, str]]) -> None:
        """Add the run's items in order, each as its id and its JSON text."""
        with self._lock:
            self._conn.executemany(
                "INSERT INTO history (id, run_id, data) VALUES (?, ?, ?)",
                [(item_id, run_id, text) for item_id, text in rows],
            )

    def history(self, run_id: str) -> list[dict[str, JSON]]:
        """The run's history items in the order they were recorded."""
        rows = self._rows("SELECT data FROM history WHERE run_id = ? ORDER BY seq", run_id)
        return [dict(_record(row[0])) for row in rows]

    # Queue

    def insert_item(self, item: QueueItem, *, leased: bool = False) -> QueueItem | None:
        """Queue an item (``leased``: already taken by a worker); returns None when an item
        with the same job id is already queued."""
        with self._lock:  # one statement: atomic alone, or undone with the transaction it is in
            cursor = self._conn.execute(
                "INSERT OR IGNORE INTO queue (job_id, run_id, due, sort, part, leased, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (item.job_id, item.run_id, item.available_at_ms,
                 item.available_at_ms - item.priority_ms, item.partition, int(leased),
                 _item_text(item)),
            )
            if cursor.rowcount == 0 or cursor.lastrowid is None:
                return None
            return item.replace(id=cursor.lastrowid)

    def due_items(self, now_ms: int, limit: int, after: QueuePosition | None = None,
                  skip: typing.Collection[str] = ()) -> list[tuple[QueuePosition, QueueItem]]:
        """Unleased items due by ``now_ms``, ahead-most first (enqueue time minus priority).

        Each item comes with its queue position; pass the last one as ``after`` to read on.
        Rows inserted or removed meanwhile cannot shift the next page, as an offset would.
        The scan walks the sort index and stops at the latest sort a due item can have, so
        it reads only the rows it returns plus the few not yet due that sort among them.
        Items of the partitions in ``skip`` are passed over in SQL, without being parsed.
        """
        sort, item_id = after if after is not None else (-_MAX_INT, -1)
        skipped = f" AND part NOT IN ({','.join('?' * len(skip))})" if skip else ""
        rows = self._rows(
            "SELECT sort, id, data FROM queue INDEXED BY queue_sort"
            " WHERE leased = 0 AND (sort, id) > (?, ?) AND sort <= ? AND due <= ?"
            f"{skipped} ORDER BY sort, id LIMIT ?",
            sort, item_id, now_ms + MAX_PRIORITY_MS, now_ms, *skip, limit,
        )
        return [((_int(sort), _int(item_id)), _queue_item(item_id, data))
                for sort, item_id, data in rows]

    def next_due(self) -> int | None:
        rows = self._rows("SELECT MIN(due) FROM queue WHERE leased = 0")
        return None if rows[0][0] is None else _int(rows[0][0])

    def lease(self, item_id: int) -> None:
        self._write("UPDATE queue SET leased = 1 WHERE id = ?", item_id)

    def release_all_leases(self) -> None:
        self._write("UPDATE queue SET leased = 0")

    def ack(self, item_id: int) -> None:
        self._write("DELETE FROM queue WHERE id = ?", item_id)

    def requeue(self, item: QueueItem) -> None:
        """Store the item's new attempt and time, and make it available again."""
        self._write(
            "UPDATE queue SET due = ?, sort = ?, leased = 0, data = ? WHERE id = ?",
            item.available_at_ms, item.available_at_ms - item.priority_ms,
            dump(item.to_dict()), item.id,
        )

    def reschedule_job(self, job_id: str, at_ms: int) -> None:
        """Move a queued (not running) job to a new due time."""
        rows = self._rows("SELECT id, data FROM queue WHERE job_id = ? AND leased = 0", job_id)
        if rows:
            item = _queue_item(rows[0][0], rows[0][1])
            self.requeue(QueueItem.from_dict({**item.to_dict(), "available_at_ms": at_ms}))

    def delete_job(self, job_id: str) -> None:
        self._write("DELETE FROM queue WHERE job_id = ?", job_id)

    def delete_run_items(self, run_id: str) -> None:
        self._write("DELETE FROM queue WHERE run_id = ?", run_id)

    def queue_depth(self) -> int:
        """Queued items, due or not, running or not."""
        return _int(self._rows("SELECT COUNT(*) FROM queue")[0][0])

    def items(self) -> list[QueueItem]:
        rows = self._rows("SELECT id, data FROM queue ORDER BY sort, id")
        return [_queue_item(item_id, data) for item_id, data in rows]

    # Pauses

    def _load_pause_names(self) -> None:
        """Read the waited-for names anew (at open, and after a rollback, which may bring
        back a pause whose name was dropped within the transaction)."""
        rows = self._rows("SELECT DISTINCT event_name FROM pauses")
        self._pause_names = {_text(row[0]) for row in rows}

    def add_pause(self, pause: Pause) -> None:
        with self._lock:
            self._pause_names.add(pause.event_name)
            self._without_pauses.discard(pause.run_id)
            self._write(
                "INSERT OR REPLACE INTO pauses (id, run_id, event_name, data) VALUES (?, ?, ?, ?)",
                pause.id, pause.run_id, pause.event_name, dump(pause.to_dict()),
            )

    def pauses_for(self, event_name: str, seq: int) -> list[Pause]:
        with self._lock:
            if event_name not in self._pause_names:
                return []
            rows = self._rows("SELECT data FROM pauses WHERE event_name = ?", event_name)
            if not rows:
                # Taken or deleted pauses leave their name behind until a lookup finds none.
                self._pause_names.discard(event_name)
        pauses = [Pause.from_dict(_record(r[0])) for r in rows]
        return [pause for pause in pauses if pause.after_seq < seq]

    def take_pause(self, pause_id: str) -> Pause | None:
        """Remove and return a pause; only one caller can win it."""
        with self.transaction():
            rows = self._rows("SELECT data FROM pauses WHERE id = ?", pause_id)
            if not rows:
                return None
            self._conn.execute("DELETE FROM pauses WHERE id = ?", (pause_id,))
            return Pause.from_dict(_record(rows[0][0]))

    def delete_run_pauses(self, run_id: str) -> None:
        with self._lock:
            if run_id not in self._without_pauses:
                self._write("DELETE FROM pauses WHERE run_id = ?", run_id)

    # Dedupe keys

    def claim_key(self, key: str, now_ms: int, expires_at_ms: int) -> bool:
        """True if ``key`` was free (or expired) and is now held until ``expires_at_ms``."""
        return self._write(
            "INSERT INTO dedupe (key, expires_at_ms) VALUES (?, ?) ON CONFLICT (key)"
            " DO UPDATE SET expires_at_ms = excluded.expires_at_ms"
            " WHERE dedupe.expires_at_ms <= ?", key, expires_at_ms, now_ms,
        ) == 1

    def merge_metadata(self, run_id: str, target: str, kind: str, values: Object,
                       now_ms: int) -> None:
        """Merge ``values`` into the run's metadata of ``kind`` for ``target`` (a step's
        hashed id, or "" for the run)."""
        self.update_metadata(run_id, target, kind, lambda old: {**old, **values}, now_ms)

    def update_metadata(self, run_id: str, target: str, kind: str,
                        change: typing.Callable[[Object], Object], now_ms: int) -> None:
        """Replace the run's metadata of ``kind`` for ``target`` by ``change`` of it (of
        ``{}`` when there is none yet)."""
        with self.transaction():
            rows = self._rows(
                "SELECT data FROM run_metadata WHERE run_id = ? AND target = ? AND kind = ?",
                run_id, target, kind,
            )
            changed = change(_record(rows[0][0]) if rows else {})
            self._write(
                "INSERT OR REPLACE INTO run_metadata (run_id, target, kind, data, updated_at_ms)"
                " VALUES (?, ?, ?, ?, ?)", run_id, target, kind, dump(changed), now_ms,
            )

    def metadata(self, run_id: str) -> list[tuple[str, str, Object, int]]:
        """The run's metadata as (target, kind, values, updated at), by target and kind."""
        rows = self._rows(
            "SELECT target, kind, data, updated_at_ms FROM run_metadata WHERE run_id = ?"
            " ORDER BY target, kind", run_id,
        )
        return [(_text(target), _text(kind), _record(data), _int(updated))
                for target, kind, data, updated in rows]

    def save_userland_span(self, run_id: str, span_id: str, span: Object) -> None:
        """Keep a span the run's app traced itself (one per span id: a span sent again
        replaces it)."""
        self._write("INSERT OR REPLACE INTO userland_spans (run_id, span_id, data)"
                    " VALUES (?, ?, ?)", run_id, span_id, dump(span))

    def userland_spans(self, run_id: str) -> list[Object]:
        """The spans the run's app traced, in the order they were (last) sent."""
        rows = self._rows("SELECT data FROM userland_spans WHERE run_id = ? ORDER BY rowid",
                          run_id)
        return [_record(data) for (data,) in rows]

    def invoke_key_run(self, function_id: str, key: str, now_ms: int) -> str | None:
        """The run an unexpired invoke idempotency key of the function started."""
        rows = self._rows(
            "SELECT run_id FROM invoke_keys WHERE function_id = ? AND key = ?"
            " AND expires_at_ms > ?", function_id, key, now_ms,
        )
        return _text(rows[0][0]) if rows else None

    def keep_invoke_key(self, function_id: str, key: str, run_id: str,
                        expires_at_ms: int) -> None:
        self._write(
            "INSERT OR REPLACE INTO invoke_keys (function_id, key, run_id, expires_at_ms)"
            " VALUES (?, ?, ?, ?)", function_id, key, run_id, expires_at_ms,
        )

    # Deferred runs

    def add_defer(self, run_id: str, hashed_id: str, data: Object) -> None:
        """Keep a run's defer, unless one with its hashed id is kept already."""
        with self._lock:
            self._without_defers.discard(run_id)
            self._write("INSERT OR IGNORE INTO defers (run_id, hashed_id, data)"
                        " VALUES (?, ?, ?)", run_id, hashed_id, dump(data))

    def set_defer(self, run_id: str, hashed_id: str, data: Object) -> None:
        self._write("UPDATE defers SET data = ? WHERE run_id = ? AND hashed_id = ?",
                    dump(data), run_id, hashed_id)

    def defers(self, run_id: str) -> list[tuple[str, Object]]:
        """A run's defers by hashed id, in the order they came."""
        with self._lock:
            if run_id in self._without_defers:
                return []
        rows = self._rows("SELECT hashed_id, data FROM defers WHERE run_id = ? ORDER BY rowid",
                          run_id)
        return [(_text(hashed_id), _record(data)) for hashed_id, data in rows]

    # Flow control state

    def gcra_tat(self, key: str) -> int | None:
        """The theoretical arrival time stored for a GCRA key."""
        rows = self._rows("SELECT tat FROM gcra WHERE key = ?", key)
        return _int(rows[0][0]) if rows else None

    def set_gcra_tat(self, key: str, tat: int) -> None:
        self._write("INSERT OR REPLACE INTO gcra (key, tat) VALUES (?, ?)", key, tat)

    def buffer(self, kind: str, function_id: str, key: str) -> dict[str, JSON] | None:
        """A pending debounce or batch (``kind``) of a function and key."""
        rows = self._rows(
            "SELECT data FROM buffers WHERE kind = ? AND function_id = ? AND key = ?",
            kind, function_id, key,
        )
        return dict(_record(rows[0][0])) if rows else None

    def put_buffer(self, kind: str, function_id: str, key: str, data: dict[str, JSON]) -> None:
        self._write(
            "INSERT OR REPLACE INTO buffers (kind, function_id, key, data) VALUES (?, ?, ?, ?)",
            kind, function_id, key, dump(data),
        )

    def delete_buffer(self, kind: str, function_id: str, key: str) -> None:
        self._write(
            "DELETE FROM buffers WHERE kind = ? AND function_id = ? AND key = ?",
            kind, function_id, key,
        )

    # Bulk cancellations (kept to be listed; they act once, when created)

    def add_cancellation(self, cancellation_id: str, data: Object) -> None:
        self._write("INSERT INTO cancellations (id, data) VALUES (?, ?)", cancellation_id,
                    dump(data))

    def cancellations(self) -> list[Object]:
        return [_record(row[0]) for row in self._rows("SELECT data FROM cancellations ORDER BY id")]

    def delete_cancellation(self, cancellation_id: str) -> bool:
        return self._write("DELETE FROM cancellations WHERE id = ?", cancellation_id) > 0
