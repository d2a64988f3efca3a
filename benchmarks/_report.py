"""Turn the workers' raw JSON into rows (metric, ours, official, ratio, target, pass)."""

from __future__ import annotations

import typing

STEP_COUNTS = ("0", "10", "100", "1000")
Row = dict[str, typing.Any]
MODES = (("dev", "unsigned"), ("cloud", "signed"))


def _get(data: typing.Any, *path: str) -> typing.Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _row(group: str, metric: str, unit: str, ours: float | None, other: float | None,
         *, target: str = "", max_ratio: float | None = None, min_ratio: float | None = None,
         min_value: float | None = None, max_value: float | None = None,
         other_label: str = "official") -> Row:
    ratio = ours / other if ours is not None and other else None
    passed: bool | None = None  # None: no target, or nothing measured
    if max_ratio is not None and ratio is not None:
        passed = ratio <= max_ratio
    if min_ratio is not None and ratio is not None:
        passed = ratio >= min_ratio
    if min_value is not None and ours is not None:
        passed = ours >= min_value
    if max_value is not None and ours is not None:
        passed = ours <= max_value
    return {"group": group, "short": _short(group), "metric": metric, "unit": unit,
            "ours": ours, "official": other, "other_label": other_label,
            "ratio": ratio, "target": target, "pass": passed}


def _short(group: str) -> str:
    """A few words naming the group, for chart labels."""
    for words, short in (("unsigned", "POST dev"), ("signed", "POST cloud"),
                         ("Introspection", "serve"), ("Import", "import"),
                         ("Event send", "send"), ("real server", "vs real"),
                         ("Engine", "engine")):
        if words in group:
            return short
    return group


def _adapter(raw: dict[str, typing.Any], sdk: str) -> str:
    return {"wsgi": "plain WSGI", "flask": "Flask"}.get(
        _get(raw, sdk, "sdk", "adapter") or "flask", "?")


def _minus(value: float | None, cost: float | None) -> float | None:
    return value - cost if value is not None and cost is not None else None


def _flask_cost(raw: dict[str, typing.Any], sdk: str, key: str, k: str) -> float | None:
    """A Flask POST row minus the Flask no-op timed in turns with it (``key``_noop), or, in
    results from before those were kept, the no-op timed on its own."""
    noop = _get(raw, sdk, "sdk", f"{key}_noop", k, "median_us")
    if noop is None:
        noop = _get(raw, sdk, "sdk", "flask_noop", "median_us")
    return _minus(_get(raw, sdk, "sdk", key, k, "median_us"), noop)


def _wsgi_cost(raw: dict[str, typing.Any], mode: str, k: str) -> float | None:
    """Our plain-WSGI POST minus the WSGI no-op app timed in turns with it: the SDK's own
    cost, as the Flask rows take it (None in results from before the no-op was timed)."""
    return _minus(_get(raw, "ours", "sdk", f"post_{mode}", k, "median_us"),
                  _get(raw, "ours", "sdk", f"wsgi_noop_{mode}", k, "median_us"))


def request_rows(raw: dict[str, typing.Any]) -> list[Row]:
    """Targets apply to the SDK's own cost through the same adapter (Flask for both, each
    minus a no-op Flask route timed in turns with it in the same process) and to ours
    (plain WSGI, minus a no-op WSGI app timed in turns with it) vs the floor."""
    rows: list[Row] = []
    official_adapter = _adapter(raw, "official")
    for mode, label in MODES:
        group = f"POST execution, {label} ({mode} mode), median per request"
        for k in STEP_COUNTS:
            rows.append(_row(group, f"k={k} memos, SDK cost (both Flask - Flask no-op)", "us",
                             _flask_cost(raw, "ours", f"post_{mode}_flask", k),
                             _flask_cost(raw, "official", f"post_{mode}", k),
                             target="<= 0.20 (5x less)", max_ratio=0.2))
        for k in STEP_COUNTS:
            ours = _get(raw, "ours", "sdk", f"post_{mode}", k, "median_us")
            rows.append(_row(group, f"k={k} ours {_adapter(raw, 'ours')} vs official "
                             f"{official_adapter} - no-op", "us", ours,
                             _flask_cost(raw, "official", f"post_{mode}", k)))
        for k in STEP_COUNTS:
            floor = _get(raw, "ours", "sdk", f"floor_{mode}", k, "median_us")
            rows.append(_row(group, f"k={k} vs floor (ours {_adapter(raw, 'ours')} - "
                             "WSGI no-op)", "us", _wsgi_cost(raw, mode, k), floor,
                             other_label="floor", target="<= 3.0 x floor", max_ratio=3.0))
        # No target: the same request with the WSGI call's own cost left in.
        rows.append(_row(group, "k=0 vs floor, WSGI no-op not subtracted (no target)", "us",
                         _get(raw, "ours", "sdk", f"post_{mode}", "0", "median_us"),
                         _get(raw, "ours", "sdk", f"floor_{mode}", "0", "median_us"),
                         other_label="floor"))
        # No target: the floor the issue set leaves out work the protocol requires.
        rows.append(_row(group, "k=0 vs protocol floor (same WSGI call; no target)", "us",
                         _get(raw, "ours", "sdk", f"post_{mode}", "0", "median_us"),
                         _get(raw, "ours", "sdk", f"protocol_floor_{mode}", "0", "median_us"),
                         other_label="protocol"))
        rows.append(_row(group, "growth per memo", "us", _per_memo(raw, "ours", mode),
                         _per_memo(raw, "official", mode)))
    return rows


def _per_memo(raw: dict[str, typing.Any], sdk: str, mode: str) -> float | None:
    low = _get(raw, sdk, "sdk", f"post_{mode}", "0", "median_us")
    high = _get(raw, sdk, "sdk", f"post_{mode}", "1000", "median_us")
    return (high - low) / 1000 if low is not None and high is not None else None


def sync_rows(raw: dict[str, typing.Any]) -> list[Row]:
    group = (f"Introspection and sync, median per request (ours {_adapter(raw, 'ours')}, "
             f"official {_adapter(raw, 'official')})")
    rows = []
    for key, metric in (("get_dev", "GET dev"), ("get_cloud", "GET cloud (signed)"),
                        ("put_dev", "PUT dev (stub register)"),
                        ("put_cloud", "PUT cloud (stub register)")):
        rows.append(_row(group, metric, "us", _get(raw, "ours", "sdk", key, "median_us"),
                         _get(raw, "official", "sdk", key, "median_us")))
    rows.append(_row(group, "Flask no-op POST route (each SDK's process)", "us",
                     _get(raw, "ours", "sdk", "flask_noop", "median_us"),
                     _get(raw, "official", "sdk", "flask_noop", "median_us")))
    return rows


def import_rows(raw: dict[str, typing.Any]) -> list[Row]:
    group = "Import and memory (fresh processes, medians)"

    def value(sdk: str, label: str, field: str) -> float | None:
        return typing.cast("float | None", _get(raw, sdk, "import", label, field))

    def net(sdk: str, field: str) -> float | None:
        full, bare = value(sdk, "import", field), value(sdk, "bare", field)
        return full - bare if full is not None and bare is not None else None

    def mib(kib: float | None) -> float | None:
        return kib / 1024 if kib is not None else None

    def size(sdk: str) -> float | None:
        total = _get(raw, sdk, "size", "total_bytes")
        return total / 1e6 if total is not None else None

    return [
        _row(group, "python -c 'import inngest' wall", "ms", value("ours", "import", "wall_ms"),
             value("official", "import", "wall_ms")),
        _row(group, "  import only (minus bare interpreter)", "ms", net("ours", "wall_ms"),
             net("official", "wall_ms"), target="<= 0.33 (3x faster)", max_ratio=1 / 3),
        _row(group, "peak RSS (VmHWM) after import", "MiB",
             mib(value("ours", "import", "maxrss_kib")),
             mib(value("official", "import", "maxrss_kib"))),
        _row(group, "  import only (minus bare interpreter)", "MiB",
             mib(net("ours", "maxrss_kib")), mib(net("official", "maxrss_kib")),
             target="<= 0.33 (3x less)", max_ratio=1 / 3),
        _row(group, "installed size with dependencies", "MB", size("ours"), size("official")),
    ]


def send_rows(raw: dict[str, typing.Any]) -> list[Row]:
    group = "Event send to a loopback stub (send_sync), higher is better"
    return [
        _row(group, "single event per request", "ev/s",
             _get(raw, "ours", "sdk", "send", "single_eps"),
             _get(raw, "official", "sdk", "send", "single_eps")),
        _row(group, "100 events per request", "ev/s",
             _get(raw, "ours", "sdk", "send", "batch100_eps"),
             _get(raw, "official", "sdk", "send", "batch100_eps")),
    ]


def engine_rows(raw: dict[str, typing.Any]) -> list[Row]:
    group = "Engine (ours)"
    engine = raw.get("engine") or {}
    rows = []
    for workers in (1, 2, 8):
        for steps in (1, 10):
            data = engine.get(f"throughput_w{workers}_s{steps}") or {}
            suffix = " (capped)" if data.get("capped") else ""
            target, min_value = (">= 1,000 calls/s", 1000.0) \
                if (workers, steps) == (8, 10) else ("", None)
            rows.append(_row(group, f"{steps}-step fn, {workers} queue workers: calls/s{suffix}",
                             "calls/s", data.get("calls_per_s"), None, target=target,
                             min_value=min_value))
            rows.append(_row(group, f"{steps}-step fn, {workers} queue workers: runs/s{suffix}",
                             "runs/s", data.get("runs_per_s"), None))
    latency = engine.get("latency_3step") or {}
    rows.append(_row(group, "3-step fn event->Completed p50 (low load)", "ms",
                     latency.get("p50_ms"), None, target="p50 < 5 ms", max_value=5.0))
    rows.append(_row(group, "3-step fn event->Completed p99 (low load)", "ms",
                     latency.get("p99_ms"), None))
    for in_flight in (10, 100, 1000):
        data = engine.get(f"step_latency_{in_flight}") or {}
        runs = data.get("in_flight", in_flight)
        suffix = " (capped)" if data.get("capped") else ""
        for field in ("p50_ms", "p99_ms"):
            rows.append(_row(group, f"step gap, {runs} runs in flight {field[:3]}{suffix}",
                             "ms", data.get(field), None))
    memory = engine.get("memory_large_outputs") or {}
    rows.append(_row(group, f"RSS idle, then after {memory.get('runs', 40)} runs of 3x1 MB "
                     "outputs", "MiB", memory.get("after_mib"), memory.get("idle_mib"),
                     other_label="idle"))
    rows.append(_row(group, "  RSS growth after that load", "MiB", memory.get("growth_mib"),
                     None, target="<= 20 MiB", max_value=20.0))
    return rows + real_server_rows(raw)


def real_server_rows(raw: dict[str, typing.Any]) -> list[Row]:
    """Ours vs the real Go server (``inngest dev``) on this machine, higher is better."""
    group = "Engine vs the real server (same machine, same app), higher is better"
    engine = raw.get("engine") or {}
    real = engine.get("real") or {}
    ingest = engine.get("ingest_ours") or {}
    rows = [
        _row(group, "ingest, batches of 50 (ours durable)", "ev/s", ingest.get("batch50_eps"),
             _get(real, "ingest", "batch50_eps"), other_label="real",
             target=">= 1.0 x real", min_ratio=1.0),
        _row(group, "ingest, one event per request", "ev/s", ingest.get("single_eps"),
             _get(real, "ingest", "single_eps"), other_label="real",
             target=">= 1.0 x real", min_ratio=1.0),
    ]
    for steps in (1, 10):
        ours = _get(real, f"ours_throughput_s{steps}", "runs_per_s")
        rows.append(_row(group, f"{steps}-step fn runs/s (ours 8 queue workers, in turns)",
                         "runs/s",
                         ours, _get(real, f"throughput_s{steps}", "runs_per_s"),
                         other_label="real", target=">= 5.0 x real", min_ratio=5.0))
    return rows


def build_rows(raw: dict[str, typing.Any]) -> list[Row]:
    return request_rows(raw) + sync_rows(raw) + import_rows(raw) + send_rows(raw) + \
        engine_rows(raw)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _verdict(passed: bool | None) -> str:
    return {True: "PASS", False: "FAIL", None: ""}[passed]


def _no_data(row: Row) -> bool:
    return bool(row["target"]) and row["pass"] is None


def format_table(rows: list[Row], raw: dict[str, typing.Any]) -> str:
    header = f"{'metric':<52} {'unit':>7} {'ours':>10} {'other':>10} {'ratio':>7}  " \
             f"{'target':<26} result"
    lines: list[str] = []
    group = None
    for row in rows:
        if row["group"] != group:
            group = row["group"]
            lines += ["", f"== {group}", header]
        other = _fmt(row["official"])
        if row["official"] is not None and row["other_label"] != "official":
            other += f" ({row['other_label']})"
        ratio = f"{row['ratio']:.3f}" if row["ratio"] is not None else "-"
        lines.append(f"{row['metric']:<52} {row['unit']:>7} {_fmt(row['ours']):>10} "
                     f"{other:>10} {ratio:>7}  {row['target']:<26} "
                     f"{'n/a' if _no_data(row) else _verdict(row['pass'])}")
    lines += ["", "ratio = ours / other (other = official unless marked); lower is better "
              "except ev/s.", *_errors(raw)]
    checked = [row for row in rows if row["pass"] is not None]
    passed = sum(1 for row in checked if row["pass"])
    missing = sum(1 for row in rows if _no_data(row))
    lines.append(f"targets: {passed}/{len(checked)} passed, {missing} not measured")
    return "\n".join(lines)


def _errors(raw: dict[str, typing.Any]) -> list[str]:
    """One line per section that did not produce numbers."""
    notes = []
    for path in (("ours", "sdk"), ("official", "sdk"), ("ours", "import"),
                 ("official", "import"), ("ours", "size"), ("official", "size"),
                 ("engine",)):
        section = _get(raw, *path)
        if not isinstance(section, dict):
            continue
        if "error" in section:
            notes.append(f"missing {'/'.join(path)}: {section['error']}")
        for name, value in section.items():
            if isinstance(value, dict) and "error" in value:
                notes.append(f"missing {'/'.join(path)}/{name}: {value['error']}")
    return notes
