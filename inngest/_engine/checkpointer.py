"""Background WAL checkpoints for a store kept in a file.

SQLite copies the write-ahead log back into the database file (a checkpoint) at the commit
that grows the log past 1,000 pages, in the committing thread: every few hundred events
one event send waited 4-12 ms for it. The store turns that off, and this thread
checkpoints a few times a second on a connection of its own instead; SQLite lets the
store's connection go on committing meanwhile (a passive checkpoint waits for no one).
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("inngest.engine")

INTERVAL_SECONDS = 0.2


class Checkpointer:
    """Checkpoints the WAL of the database at ``path`` every ``INTERVAL_SECONDS`` until
    stopped (then once more, so that a stopped store leaves little log behind)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="inngest-checkpoint",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None)
        except sqlite3.Error as err:
            log.warning("no background checkpoints for %s: %s", self._path, err)
            return
        try:
            while not self._stop.wait(INTERVAL_SECONDS):
                self._checkpoint(conn)
            self._checkpoint(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as err:  # the next one tries again
            log.warning("checkpoint of %s failed: %s", self._path, err)
