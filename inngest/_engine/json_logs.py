"""``--json`` logs: one JSON object a line, with the real server's ``time``, ``level``, ``msg``."""

from __future__ import annotations

import datetime
import json
import logging

_LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "EMERGENCY"}


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
        entry = {
            "time": moment.isoformat().replace("+00:00", "Z"),
            "level": _LEVEL_NAMES.get(record.levelname, record.levelname),
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)
