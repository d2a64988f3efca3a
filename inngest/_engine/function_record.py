"""A synced function as the real dev server keeps it: its ``inngest.Function`` record.

``GET /dev`` lists functions this way. The server converts the SDK's config when it syncs:
the function's UUID and version come first, steps become a list with the step's URL
(normalized) and retries, idempotency becomes a one-per-24h rate limit, concurrency limits
are sorted and named by a hash of their key, and the throttle period is rewritten. Fields
the SDK leaves out are left out here too (``triggers`` is ``null`` then).
"""

from __future__ import annotations

import typing

from inngest._engine import registration, timeparse, xxhash
from inngest._engine.models import JSON, Function
from inngest._engine.payload import is_array

Object = dict[str, JSON]
Config = typing.Mapping[str, JSON]

MAX_RETRIES = 20
_IDEMPOTENCY_PERIOD = "24h0m0s"
_SCOPES = {"fn": "Fn", "env": "Env", "account": "Account"}
# str2duration's units, largest first, in nanoseconds.
_UNITS = (("w", 7 * 86_400 * 10**9), ("d", 86_400 * 10**9), ("h", 3_600 * 10**9),
          ("m", 60 * 10**9), ("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1))


def record(fn: Function, *, connect: bool = False) -> Object:
    """``connect``: the function's app is a Connect worker's."""
    config = _with_app_limit(fn.config, fn.app_id) if connect else fn.config
    out: Object = {"id": fn.id, "fv": fn.version, "name": fn.name, "slug": fn.slug}
    for field, convert in _FIELDS:
        value = convert(config)
        if value is not None or field == "triggers":
            out[field] = value
    return out


def _with_app_limit(config: Config, app_id: str) -> Config:
    """The server adds a Connect app's own run limit to each of its functions' limits."""
    value = config.get("concurrency")
    fn_limits: list[JSON] = []
    if isinstance(value, int) and not isinstance(value, bool):
        step_limits: JSON = [{"limit": value}]
    elif isinstance(value, typing.Mapping) and (value.get("fn") or value.get("step")):
        fn_limits, step_limits = list(_objects(value.get("fn"))), value.get("step")
    else:
        step_limits = [value] if isinstance(value, typing.Mapping) else value
    fn_limits.append({"limit": 0, "scope": "app", "id": f"app:{app_id}"})
    return {**config, "concurrency": {"fn": fn_limits, "step": step_limits}}


def _section(config: Config, field: str) -> Config | None:
    value = config.get(field)
    return value if isinstance(value, typing.Mapping) else None


def _objects(value: JSON) -> list[Config]:
    return [item for item in value if isinstance(item, typing.Mapping)] if is_array(value) else []


def _set(config: Config, *fields: str) -> Object:
    """The fields that are there and not null (Go's ``*string`` with ``omitempty``)."""
    return {field: config[field] for field in fields if config.get(field) is not None}


def _priority(config: Config) -> JSON:
    section = _section(config, "priority")
    return None if section is None else {"run": section.get("run")}


def _timeouts(config: Config) -> JSON:
    section = _section(config, "timeouts")
    return None if section is None else _set(section, "start", "finish")


def _concurrency(config: Config) -> JSON:
    value = config.get("concurrency")
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return [{"limit": value, "scope": "Fn", "hash": ""}]
    if isinstance(value, typing.Mapping) and (value.get("fn") or value.get("step")):
        limits = _limits(_objects(value.get("step")))
        fn_limits = [_fn_limit(entry) for entry in _objects(value.get("fn"))]
        if not fn_limits:
            return limits
        return {"fn": typing.cast(JSON, fn_limits), **({"step": limits} if limits else {})}
    return _limits([value] if isinstance(value, typing.Mapping) else _objects(value))


def _limits(entries: list[Config]) -> list[JSON]:
    limits: list[JSON] = []
    for entry in sorted(entries, key=lambda entry: _int(entry.get("limit"))):
        limit: Object = {"limit": _int(entry.get("limit"))}
        key = entry.get("key")
        if key is not None:
            limit["key"] = key
        limit["scope"] = _SCOPES.get(str(entry.get("scope") or "fn").lower(), "Fn")
        limit["hash"] = entry.get("hash") or (_hash(str(key)) if key is not None else "")
        limits.append(limit)
    return limits


def _fn_limit(entry: Config) -> JSON:
    limit: Object = {"limit": _int(entry.get("limit"))}
    if entry.get("scope"):
        limit["scope"] = entry["scope"]
    limit.update(_set(entry, "key"))
    if entry.get("id") or entry.get("key") is not None:
        limit["id"] = entry.get("id") or _hash(str(entry["key"]))
    return limit


def _hash(key: str) -> str:
    return xxhash.base36(xxhash.xxh64(key.encode()))


def _int(value: JSON) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _debounce(config: Config) -> JSON:
    section = _section(config, "debounce")
    if section is None:
        return None
    # The server drops an empty key (some SDKs send one for "no key").
    key = {"key": section["key"]} if section.get("key") else {}
    return {**key, "period": section.get("period") or "", **_set(section, "timeout")}


def _checkpoint(config: Config) -> JSON:
    section = _section(config, "checkpoint")
    if section is None:
        return None
    out: Object = {}
    if _int(section.get("batch_steps")):
        out["batch_steps"] = section["batch_steps"]
    for field in ("batch_interval", "max_runtime"):
        nanos = _nanos(section.get(field))
        if nanos:
            out[field] = _duration_text(nanos)
    return out


def _nanos(value: JSON) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip():
        try:
            return round(timeparse.parse_duration(value) * 1e9)
        except timeparse.DurationError:
            return 0
    return 0


def _duration_text(nanos: int) -> str:
    """A duration as str2duration writes it: ``1m30s``, ``2d``, ``1w3h``."""
    if nanos == 0:
        return "0s"
    sign, rest, text = ("-" if nanos < 0 else ""), abs(nanos), ""
    for unit, size in _UNITS:
        amount, rest = divmod(rest, size)
        if amount:
            text += f"{amount}{unit}"
    return sign + text


def _triggers(config: Config) -> JSON:
    value = config.get("triggers")
    if not is_array(value):
        return None
    return [_trigger(trigger) for trigger in _objects(value)]


def _trigger(config: Config) -> JSON:
    if config.get("cron") is not None:
        return {"cron": config["cron"], **_set(config, "jitter")}
    return {"event": config.get("event") or "", **_set(config, "expression")}


def _batch(config: Config) -> JSON:
    section = _section(config, "batchEvents")
    if section is None:
        return None
    return {**_set(section, "key"), "maxSize": _int(section.get("maxSize")),
            "timeout": section.get("timeout") or "", **_set(section, "if")}


def _rate_limit(config: Config) -> JSON:
    if config.get("idempotency") is not None:
        return {"limit": 1, "period": _IDEMPOTENCY_PERIOD, "key": config["idempotency"]}
    value = config.get("rateLimit")
    if not isinstance(value, typing.Mapping):
        return None
    return {"limit": _int(value.get("limit")), "period": value.get("period") or "",
            **_set(value, "key")}


def _throttle(config: Config) -> JSON:
    section = _section(config, "throttle")
    if section is None:
        return None
    # The server writes its throttle from a map: keys in alphabetical order.
    return {"burst": _int(section.get("burst")), **_set(section, "key"),
            "limit": _int(section.get("limit")) or 1,
            "period": _duration_text(_nanos(section.get("period")))}


def _cancels(config: Config) -> JSON:
    cancels: list[JSON] = [{"event": entry.get("event") or "", **_set(entry, "timeout", "if")}
                           for entry in _objects(config.get("cancel"))]
    return cancels or None


def _singleton(config: Config) -> JSON:
    section = _section(config, "singleton")
    if section is None:
        return None
    return {**_set(section, "key"), "mode": str(section.get("mode") or "skip").lower()}


def _steps(config: Config) -> JSON:
    steps = _section(config, "steps") or {}
    listed: list[JSON] = [_step(step, config.get("retries")) for step in steps.values()
                          if isinstance(step, typing.Mapping)]
    return listed or None


def _step(step: Config, fn_retries: JSON) -> JSON:
    runtime = step.get("runtime")
    url = runtime.get("url") if isinstance(runtime, typing.Mapping) else None
    out: Object = {"id": step.get("id") or "", "name": step.get("name") or "",
                   "uri": step_uri(str(url or ""))}
    retries = step.get("retries")
    attempts = (_int(retries.get("attempts")) if isinstance(retries, typing.Mapping)
                else fn_retries if isinstance(fn_retries, int) else None)
    if attempts is not None:
        out["retries"] = min(attempts, MAX_RETRIES)
    return out


def step_uri(url: str) -> str:
    """A step's URL as the real server records it (and shows it: a function's ``url``)."""
    try:
        return registration.normalize_url(url)
    except registration.UrlError:
        return url


_FIELDS: tuple[tuple[str, typing.Callable[[Config], JSON]], ...] = (
    ("priority", _priority), ("timeouts", _timeouts), ("concurrency", _concurrency),
    ("debounce", _debounce), ("checkpoint", _checkpoint), ("triggers", _triggers),
    ("batchEvents", _batch), ("rateLimit", _rate_limit), ("throttle", _throttle),
    ("cancel", _cancels), ("singleton", _singleton), ("steps", _steps),
)
