"""``POST /fn/register``: validating an app's function configs and storing them."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import string
import typing
import unicodedata
import urllib.parse
import uuid

from inngest._engine import cel, cron, feature_observations, goduration, timeparse
from inngest._engine.errors import EngineError
from inngest._engine.models import CONNECT_METHOD, JSON, App, Function
from inngest._engine.payload import (
    Object, as_array, as_object, go_int, is_array, json_kind, load_body, negative_zeros_as_ints,
    object_or_empty,
)
from inngest._engine.store import Store
from inngest._protocol import jcs
from inngest._protocol.headers import Header

SERVER_KIND = "dev"
MAX_TRIGGERS = 10
MAX_CANCELS = 5
MAX_CONCURRENCY_LIMITS = 2
MAX_NAME_LENGTH = 255
_DAY = 86400.0
# The integer types the real server decodes these fields into (Go int and uint).
_INT_RANGE = (-(2**63), 2**63 - 1)
_UINT_RANGE = (0, 2**64 - 1)
_SINGLETON_MODES = ("skip", "cancel")
_APP_STRINGS = ("url", "sdk", "framework", "appVersion", "v", "deployType")
_CAPABILITY_STRINGS = ("trust_probe", "connect")
_LOCAL_HOSTS = ("127.0.0.1", "0.0.0.0", "localhost")
# What a path may hold as written (letters, digits and "%" escapes too), and what the
# server leaves unencoded when it encodes a path again.
_PATH_KEPT = "-_.~$&+,/:;=@"
_PATH_AS_WRITTEN = frozenset(string.ascii_letters + string.digits + _PATH_KEPT + "!'()*[]%")
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_NAMESPACE = uuid.NAMESPACE_OID
# The app's error after a sync of no functions (the sync itself is accepted).
NO_FUNCTIONS = "No functions registered within your app"
_SLUG_SUBSTITUTIONS = str.maketrans({
    '"': "", "'": "", "\u2019": "", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "&": "and", "@": "at",
})


class RegisterError(EngineError):
    """A refused registration: HTTP status and JSON body to answer with."""

    code = "registration_refused"

    def __init__(self, status: int, body: dict[str, JSON], detail: str = "") -> None:
        super().__init__(f"{body.get('error')}: {detail}" if detail else body.get("error"))
        self.status = status
        self.body = body


class UrlError(EngineError, ValueError):
    """A URL that cannot be parsed (an unclosed ``[``, a port that is not a number)."""

    code = "url_invalid"


@dataclasses.dataclass(frozen=True)
class RegisterResult:
    app_id: str
    sync_id: str
    modified: bool

    def to_dict(self) -> dict[str, JSON]:
        return {"ok": True, "modified": self.modified, "sync_id": self.sync_id,
                "app_id": self.app_id}


def normalize_url(url: str) -> str:
    """The URL as the real server normalizes an app's URL: without ``deployId``/``probe``
    (the query's keys sorted, its values encoded again), without a default port, a local
    host (written in lower case, with a port) spelled ``localhost``, and a path with a
    character a URL may not hold (a space, say) percent-encoded. A path with a broken
    escape (``%zz``) keeps the URL as written, as there.

    Raises UrlError for a URL whose host or port cannot be parsed.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        parts.hostname  # noqa: B018  (reading it checks the brackets of an IPv6 host)
    except ValueError:  # an unclosed "[" around an IPv6 host, say
        raise UrlError(f"invalid URL {url!r}: the host cannot be parsed") from None
    _port(parts, url)
    if _BROKEN_ESCAPE.search(parts.path):
        return url
    userinfo, at, host_port = parts.netloc.rpartition("@")
    query = urllib.parse.urlencode(sorted(
        ((key, value) for key, value
         in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
         if key not in ("deployId", "probe")), key=lambda pair: pair[0]))
    return urllib.parse.urlunsplit((
        parts.scheme, userinfo + at + _normal_host(host_port, parts.scheme),
        _escaped_path(parts.path), query, parts.fragment))


def _normal_host(host_port: str, scheme: str) -> str:
    """``host:port`` without a default port, a local host then spelled ``localhost``; as
    written when it names no port or does not split into a host and a port."""
    split = _split_host_port(host_port) if ":" in host_port else None
    if split is None:
        return host_port
    host, port = split
    if port == str(_DEFAULT_PORTS.get(scheme)):
        port = ""
    if host in _LOCAL_HOSTS:
        return f"localhost:{port}" if port else "localhost"
    return host_port if port else host


def _split_host_port(host_port: str) -> tuple[str, str] | None:
    """``host`` and ``port`` (an IPv6 host without its brackets), or None when the text
    is no host and port: no port after a bracketed host, or colons in the host."""
    if host_port.startswith("["):
        host, _, rest = host_port[1:].partition("]")
        if not rest.startswith(":"):
            return None
        port = rest[1:]
    else:
        host, _, port = host_port.rpartition(":")
        if ":" in host:
            return None
    if any(bracket in host + port for bracket in "[]"):
        return None
    return host, port


def _escaped_path(path: str) -> str:
    """The path as written when every character may stand in a URL path, else decoded and
    encoded again."""
    if set(path) <= _PATH_AS_WRITTEN:
        return path
    return urllib.parse.quote(urllib.parse.unquote_to_bytes(path), safe=_PATH_KEPT)


def _port(parts: urllib.parse.SplitResult, url: str) -> str | None:
    try:
        number = parts.port
    except ValueError:
        # Go's URL parser takes any digits as a port: the real server syncs an app at
        # port 99999999 (which it then cannot reach), so ours keeps it as written too.
        text = parts.netloc.rpartition(":")[2]
        if not (text.isascii() and text.isdigit()):
            raise UrlError(f"invalid URL {url!r}: the port is not a number") from None
        return text
    return None if number is None else str(number)


def app_uuid(app_name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, app_name))


def placeholder(url: str) -> App:
    """The entry listing an app at ``url`` before anything synced there (``-u``, discovery,
    the console's add-app), unreachable until an app there syncs."""
    return App(id=str(uuid.uuid5(uuid.NAMESPACE_URL, url)), name=url, url=url,
               error="unreachable")


def is_placeholder(app: App) -> bool:
    # The dev server's placeholders are the apps without a name; ours are named after their
    # URL (for the console), so they are known by the id they are made with.
    return app.id == placeholder(app.url).id


def register(
    store: Store, body: bytes, headers: typing.Mapping[str, str], now_ms: int
) -> RegisterResult:
    """Apply a registration; raises RegisterError with the reply for refused ones."""
    expected = headers.get(Header.EXPECTED_SERVER_KIND)
    if expected and expected != SERVER_KIND:
        raise RegisterError(400, {"error": f"Expected server kind {SERVER_KIND}, got {expected}"},
                            "the app is in production mode; create its client with "
                            "is_production=False or set INNGEST_DEV=1 to use this dev server")
    try:
        request = load_body(body)
    except ValueError as err:
        raise RegisterError(400, {"error": f"Invalid request: {err}"}) from None
    if request is None:
        request = {}  # Go decodes null as the empty request
    if not isinstance(request, typing.Mapping):
        raise RegisterError(400, {"error": "Invalid request: body must be a JSON object"})
    # Fields of the wrong type first: the dev server's decoder refuses them before it checks.
    problems = _request_problems(request)
    if problems:
        raise RegisterError(400, {"error": f"Invalid request: {problems[0]}"})
    # Go decodes JSON keys case-insensitively: SDKs send "appname" as well as "appName".
    app_name = next((v for k, v in request.items() if k.lower() == "appname"), None)
    if not isinstance(app_name, str) or not app_name:
        raise RegisterError(400, {"error": "App ID required", "data": None, "status": 400})
    try:
        url = normalize_url(str(request.get("url") or ""))
    except UrlError as err:
        raise RegisterError(400, {"error": f"Invalid request: {err}"}) from None
    period_error = _throttle_period_error(request.get("functions"))
    if period_error:
        raise RegisterError(400, {"error": f"Invalid request: {period_error}"})
    try:
        observed = feature_observations.parse(request.get("featureObservations"))
    except feature_observations.ObservationError as err:
        raise RegisterError(400, {"error": f"Invalid request: {err}"}) from None
    digest = checksum(request)
    app_id = app_uuid(app_name)
    sync_id = str(uuid.uuid4())
    _remove_placeholders(store, url, now_ms)
    current = store.app(app_id)
    functions = request.get("functions") or []
    # Checked first: the checksum reads 1.0 as 1 and -0.0 as -0, which the server's decoder
    # refuses for an integer field before it compares checksums.
    errors = _validate_all(functions)
    if current is not None and current.error is None and current.checksum == digest \
            and not errors:
        if observed.any:  # the server keeps an unchanged app's latest observations
            store.put_app(current.replace(feature_reasons=dict(observed.reasons)))
        return RegisterResult(app_id, sync_id, modified=False)
    app = App(
        id=app_id, name=app_name, url=url, checksum=digest,
        error=_sync_error(store, app_id, functions, [error for _, error in errors]),
        sdk=str(request.get("sdk") or ""), framework=str(request.get("framework") or ""),
        app_version=str(request.get("appVersion") or ""), updated_at_ms=now_ms,
        method=CONNECT_METHOD if request.get("deployType") == "connect" else "SERVE",
        feature_reasons=dict(observed.reasons),
    )
    with store.transaction():
        store.put_app(app)
        if not errors:
            kept = [_store_function(store, app, as_object(raw, "a function"))
                    for raw in as_array(functions, "functions")]
            store.archive_functions(app_id, {fn.id for fn in kept})
    if errors:
        detail = "; ".join(f"function {fn_id!r}: {error}" for fn_id, error in errors)
        raise RegisterError(400, {
            "error": "At least one function is invalid", "data": None, "status": 400,
            "message": f"At least one function is invalid: {detail}",
        }, detail)
    return RegisterResult(app_id, sync_id, modified=True)


def _sync_error(store: Store, app_id: str, functions: JSON, errors: list[str]) -> str | None:
    """The error a sync leaves on its app: its functions' errors, else, for a sync of no
    functions, ``NO_FUNCTIONS`` unless the app had functions synced (measured: the dev
    server's sync then only archives them, and the app shows no error)."""
    if errors:
        return _app_error(errors)
    if not functions and not store.functions(app_id):
        return NO_FUNCTIONS
    return None


def _app_error(errors: list[str]) -> str:
    """The functions' errors as the real server keeps them on the app, in the words of the
    multi-error it once kept there: ``2 errors occurred: * first * second``."""
    return f"{len(errors)} errors occurred:" + "".join(f" * {error}" for error in errors)


def _remove_placeholders(store: Store, url: str, now_ms: int) -> None:
    """An app syncing at a URL replaces the placeholder there, as on the dev server, which
    keeps the other named apps at that URL (apps synced with no URL share the empty one)."""
    for app in store.apps_by_url(url):
        if is_placeholder(app):
            store.delete_app(app.id, now_ms)


def _request_problems(request: Object) -> list[str]:
    """Fields of the wrong JSON type, which the real server's decoder refuses (only null is
    the same as leaving a field out: an empty string is no list of functions)."""
    problems = [problem for field in _APP_STRINGS
                for problem in _check_string(request.get(field), field)]
    capabilities = request.get("capabilities")
    if capabilities is not None and not isinstance(capabilities, typing.Mapping):
        problems.append(f"capabilities must be an object, not {json_kind(capabilities)}")
    elif capabilities is not None:
        problems.extend(problem for field in _CAPABILITY_STRINGS for problem in
                        _check_string(capabilities.get(field), f"capabilities.{field}"))
    functions = request.get("functions")
    if functions is not None and not is_array(functions):
        problems.append(f"functions must be an array, not {json_kind(functions)}")
    return problems


def _stored_config(raw: Object) -> dict[str, JSON]:
    """A function's config as the server keeps it once decoded to its Go types: a ``-0`` is
    an integer's 0, a ``concurrency`` that is neither an integer, an object nor an array is
    no limit (``1.0``, ``"5"``: ignored, measured), and a batch's size is an int."""
    config = typing.cast("dict[str, JSON]", negative_zeros_as_ints(dict(raw)))
    concurrency = config.get("concurrency")
    if not (isinstance(concurrency, (int, typing.Mapping)) or is_array(concurrency)) \
            or isinstance(concurrency, bool):
        config.pop("concurrency", None)
    batch = config.get("batchEvents")
    if isinstance(batch, dict) and (size := _batch_size(batch.get("maxSize"))) is not None:
        config["batchEvents"] = {**batch, "maxSize": size}
    return config


def checksum(request: Object) -> str:
    body = {key: value for key, value in request.items() if key != "featureObservations"}
    return hashlib.sha256(jcs.canonicalize(body)).hexdigest()


def _store_function(store: Store, app: App, raw: Object) -> Function:
    slug = function_slug(raw)
    name = str(raw["name"])
    url = step_url(raw)
    existing = store.function_by_slug(slug)
    created_at_ms = app.updated_at_ms
    if existing is not None and existing.app_id == app.id:
        fn_id, version = existing.id, existing.version + 1
        created_at_ms = existing.created_at_ms or created_at_ms
    else:
        fn_id, version = _new_function_id(store, app, name, url), 1
    fn = Function(id=fn_id, app_id=app.id, slug=slug, name=name, url=url,
                  config=_stored_config(raw), version=version, created_at_ms=created_at_ms)
    store.put_function(fn)
    return fn


def _new_function_id(store: Store, app: App, name: str, url: str) -> str:
    """The real server's UUID, unless another app's function has it (two apps with a function
    of one name at one step URL): the dev server then overwrites that function's config and
    lists none for the app syncing; each app keeps its own here (docs/compatibility.md)."""
    fn_id = function_uuid(name, url)
    holder = store.function(fn_id)
    if holder is None or holder.app_id == app.id or \
            fn_id not in {fn.id for fn in store.functions(holder.app_id)}:
        return fn_id
    return str(uuid.uuid5(_NAMESPACE, app.id + name + url))


def function_slug(raw: Object) -> str:
    """The function's ``id``, else (null, empty or left out) its name made a slug, as the
    dev server makes it."""
    given = raw.get("id")
    return given if isinstance(given, str) and given else slugify(str(raw.get("name") or ""))


def slugify(name: str) -> str:
    """Lower case ASCII letters, digits, ``_`` and single dashes: quotes dropped, ``&`` and
    ``@`` spelled out, accents dropped; any other character is a dash (the dev server
    transliterates letters beyond Latin ones: docs/compatibility.md)."""
    text = name.strip().translate(_SLUG_SUBSTITUTIONS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    text = re.sub(r"-+", "-", re.sub(r"[^a-z0-9_-]", "-", text, flags=re.ASCII))
    return text.strip("-_")


def function_uuid(name: str, url: str) -> str:
    """The real server's UUID for a newly synced function: from its name and its
    (normalized) step URL."""
    try:
        url = normalize_url(url)
    except UrlError:
        pass  # as the real server does, a URL it cannot parse keeps its text
    return str(uuid.uuid5(_NAMESPACE, name + url))


def step_url(raw: Object) -> str:
    steps = raw.get("steps")
    step = next(iter(steps.values()), None) if isinstance(steps, typing.Mapping) else None
    runtime = object_or_empty(object_or_empty(step, "the step").get("runtime"), "runtime")
    return str(runtime.get("url") or "")


def _validate_all(functions: JSON) -> list[tuple[str, str]]:
    """Each problem, with the ID of the function it is in."""
    if not is_array(functions):
        return [("?", "functions must be an array")]
    errors: list[tuple[str, str]] = []
    for raw in functions:
        if not isinstance(raw, typing.Mapping):
            errors.append(("?", "each function must be an object"))
            continue
        errors.extend((function_slug(raw) or "?", error) for error in validate_function(raw))
    return errors


def validate_function(raw: Object) -> list[str]:
    """Every problem with one function config, in the server's words where it has them."""
    errors: list[str] = []
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        errors.append("A function name is required")
    errors.extend(_check_string(raw.get("id"), "id"))
    errors.extend(_check_steps(raw))
    errors.extend(_check_triggers(raw.get("triggers")))
    errors.extend(_check_integer(raw.get("retries"), "retries", _INT_RANGE))
    for check in (_check_concurrency, _check_batch, _check_cancel, _check_debounce,
                  _check_rate_limit, _check_priority, _check_timeouts, _check_throttle,
                  _check_singleton, _check_idempotency):
        errors.extend(check(raw))
    return errors


def _check_steps(raw: Object) -> list[str]:
    steps = raw.get("steps")
    if not isinstance(steps, typing.Mapping) or len(steps) != 1:
        return ["Functions must contain one step"]
    key, step = next(iter(steps.items()))
    if not isinstance(step, typing.Mapping):
        return ["Functions must contain one step"]
    errors = [] if step.get("name") else ["All steps must have a name"]
    errors.extend(_check_retries(step.get("retries"), f"steps.{key}.retries"))
    runtime = step.get("runtime")
    if runtime is not None and not isinstance(runtime, typing.Mapping):
        return [*errors, f"steps.{key}.runtime must be an object, not {json_kind(runtime)}"]
    url = (runtime or {}).get("url")
    if not url:
        errors.append(f"No SDK URL provided for function '{raw.get('name')}'")
    elif urllib.parse.urlsplit(str(url)).scheme not in ("http", "https", "ws", "wss"):
        errors.append(f"Invalid SDK URL for function '{raw.get('name')}': {url}")
    return errors


def _check_retries(retries: JSON, field: str) -> list[str]:
    if retries is None:
        return []
    if not isinstance(retries, typing.Mapping):
        return [f"{field} must be an object, not {json_kind(retries)}"]
    return _check_integer(retries.get("attempts"), f"{field}.attempts", _INT_RANGE)


def _check_triggers(triggers: JSON) -> list[str]:
    if triggers is None:
        return []
    if not is_array(triggers):
        return ["triggers must be an array"]
    errors = []
    if len(triggers) > MAX_TRIGGERS:
        errors.append(f"This function exceeds the max number of triggers: {MAX_TRIGGERS}")
    seen: list[JSON] = []
    for trigger in triggers:
        if trigger in seen:
            errors.append("This function has duplicate triggers")
        seen.append(trigger)
        errors.extend(_check_trigger(trigger))
    return errors


def _check_trigger(trigger: JSON) -> list[str]:
    if not isinstance(trigger, typing.Mapping):
        return ["A trigger must be an object"]
    event, cron_expr = trigger.get("event"), trigger.get("cron")
    if event and cron_expr:
        return ["A trigger cannot have both an event and a cron"]
    if cron_expr:
        errors = _try(lambda: cron.validate_cron(str(cron_expr)), cron.CronError)
        if len(str(cron_expr)) > MAX_NAME_LENGTH:
            errors.append("Cron expressions must be 255 characters or less")
        return errors + _check_jitter(trigger.get("jitter"))
    if not isinstance(event, str) or not event:
        return ["A trigger must have an event or a cron"]
    errors = []
    if len(event) > MAX_NAME_LENGTH:
        errors.append("Event names must be 255 characters or less")
    expression = trigger.get("expression")
    if expression:
        errors.extend(_check_expression(expression))
    return errors


def _check_jitter(jitter: JSON) -> list[str]:
    if not jitter:
        return []
    if not isinstance(jitter, str):
        return [f"invalid cron jitter {jitter!r}"]
    return _try(lambda: cron.parse_jitter(jitter), cron.CronError)


def _check_concurrency(raw: Object) -> list[str]:
    value = raw.get("concurrency")
    if not isinstance(value, typing.Mapping) and not is_array(value):
        return []  # a number is a limit when an integer; the server ignores any other value
    if isinstance(value, typing.Mapping) and ("fn" in value or "step" in value):
        fn_limits, step_limits = value.get("fn") or [], value.get("step") or []
        if not is_array(fn_limits) or not is_array(step_limits):
            return ["concurrency.fn and concurrency.step must be arrays"]
        limits = [*fn_limits, *step_limits]
        errors = ["Only one function-scoped run concurrency limit is allowed"] \
            if len(fn_limits) > 1 else []
        counted = step_limits  # the real server's maximum of 2 leaves out "fn"
    else:
        limits = counted = list(value) if is_array(value) else [value]
        errors = []
    if len(counted) > MAX_CONCURRENCY_LIMITS:
        errors.append(f"There are more than {MAX_CONCURRENCY_LIMITS} concurrency limits")
    for limit in limits:
        if not isinstance(limit, typing.Mapping):
            errors.append("A concurrency limit must be an object")
            continue
        errors.extend(_check_integer(limit.get("limit"), "concurrency.limit", _INT_RANGE))
        scope = str(limit.get("scope") or "fn").lower()
        if scope not in ("fn", "env", "account"):
            errors.append(f"Invalid concurrency scope: {scope}")
        key = limit.get("key")
        if scope != "fn" and not key:
            errors.append("A concurrency key is required for env or account scopes")
        if key:
            errors.extend(_check_expression(key))
    return errors


def _batch_size(value: JSON) -> int | None:
    """``batchEvents.maxSize`` as the server reads it: through a float64 (its config is a
    map first), so any whole number within an int64 (``1e2``, ``2.0``, ``-0``; measured)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (value.is_integer() and abs(value) < 2.0 ** 63):
        return None
    return int(value)


def _check_batch(raw: Object) -> list[str]:
    batch = raw.get("batchEvents")
    if batch is not None and not isinstance(batch, typing.Mapping):
        return ["batchEvents must be an object"]
    if not batch:
        return []
    errors = []
    size = _batch_size(batch.get("maxSize"))
    if size is None or size < 2:
        errors.append("batchEvents.maxSize must be at least 2")
    elif size > _INT_RANGE[1]:
        errors.append(f"batchEvents.maxSize must be at most {_INT_RANGE[1]}")
    timeout = str(batch.get("timeout") or "")
    if "d" in timeout or "w" in timeout:
        errors.append(f"Invalid batch timeout: {timeout}")
    else:
        seconds = _seconds(timeout)
        if seconds is None or seconds < 1:
            errors.append("batchEvents.timeout must be at least 1s")
        elif seconds > timeparse.MAX_DURATION_S:
            errors.append(f"Invalid batch timeout: {timeout}")
    for field in ("key", "if"):
        if batch.get(field):
            errors.extend(_check_expression(batch[field]))
    for other in ("cancel", "debounce", "singleton"):
        if raw.get(other):
            errors.append(f"Batching cannot be combined with {other}")
    priority = raw.get("priority")
    if isinstance(priority, typing.Mapping) and priority.get("run"):
        errors.append("Batching cannot be combined with priority")
    return errors


def _check_cancel(raw: Object) -> list[str]:
    cancels = raw.get("cancel") or []
    if not is_array(cancels):
        return ["cancel must be an array"]
    errors = [] if len(cancels) <= MAX_CANCELS else [
        f"This function exceeds the max number of cancellations: {MAX_CANCELS}"
    ]
    for cancel in cancels:
        if not isinstance(cancel, typing.Mapping) or not cancel.get("event"):
            errors.append("A cancellation needs an event")
            continue
        errors.extend(_check_string(cancel["event"], "cancel.event"))
        if cancel.get("if"):
            errors.extend(_check_expression(cancel["if"]))
        errors.extend(_check_timeout(cancel.get("timeout"), "cancel.timeout", dates=True))
    return errors


def _check_debounce(raw: Object) -> list[str]:
    debounce = raw.get("debounce")
    if not debounce:
        return []
    if not isinstance(debounce, typing.Mapping):
        return ["debounce must be an object"]
    seconds = _seconds(str(debounce.get("period") or ""))
    errors = []
    if seconds is None or not 1 <= seconds <= 7 * _DAY:
        errors.append("The debounce period must be between 1s and 7d")
    if debounce.get("key"):
        errors.extend(_check_expression(debounce["key"]))
    errors.extend(_check_timeout(debounce.get("timeout"), "debounce.timeout"))
    return errors


def _check_rate_limit(raw: Object) -> list[str]:
    rate = raw.get("rateLimit")
    if not rate:
        return []
    if not isinstance(rate, typing.Mapping):
        return ["rateLimit must be an object"]
    limit = rate.get("limit")
    errors = _check_integer(limit, "rateLimit.limit", _UINT_RANGE)
    if not errors and not limit:
        errors.append("The rate limit must be greater than 0")
    seconds = _seconds(str(rate.get("period") or ""))
    if seconds is None or seconds <= 0:
        errors.append("A rate limit period is required")
    elif seconds > _DAY:
        errors.append("The rate limit period must be 24h or less")
    if rate.get("key"):
        errors.extend(_check_expression(rate["key"]))
    return errors


def _check_priority(raw: Object) -> list[str]:
    priority = raw.get("priority")
    if priority and not isinstance(priority, typing.Mapping):
        return ["priority must be an object"]
    run = priority.get("run") if isinstance(priority, typing.Mapping) else None
    return _check_expression(run) if run else []


def _check_throttle(raw: Object) -> list[str]:
    throttle = raw.get("throttle")
    if throttle is None:
        return []
    if not isinstance(throttle, typing.Mapping):
        return [f"throttle must be an object, not {json_kind(throttle)}"]
    errors = [*_check_integer(throttle.get("limit"), "throttle.limit", _UINT_RANGE),
              *_check_integer(throttle.get("burst"), "throttle.burst", _UINT_RANGE),
              *_check_string(throttle.get("key"), "throttle.key")]
    return errors


# Go's JSON type names, for the decoder's message about a value of the wrong type.
_GO_JSON_KINDS = {bool: "bool", int: "number", float: "number", str: "string", list: "array",
                  dict: "object"}


def _throttle_period_error(functions: JSON) -> str | None:
    """The real server parses a throttle period while decoding the request: one it cannot
    parse refuses the whole registration, in the words of Go's decoder or ``ParseDuration``."""
    for raw in functions if is_array(functions) else []:
        throttle = raw.get("throttle") if isinstance(raw, typing.Mapping) else None
        if not isinstance(throttle, typing.Mapping):
            continue
        period = throttle.get("period")
        if period is not None and not isinstance(period, str):
            kind = _GO_JSON_KINDS.get(type(period), "object")
            return (f"json: cannot unmarshal {kind} into Go struct field "
                    "SDKFunction.functions.throttle.period of type string")
        problem = goduration.parse_error(period or "")
        if problem:
            return problem
    return None


def _check_singleton(raw: Object) -> list[str]:
    singleton = raw.get("singleton")
    if singleton is None:
        return []
    if not isinstance(singleton, typing.Mapping):
        return [f"singleton must be an object, not {json_kind(singleton)}"]
    errors = _check_string(singleton.get("key"), "singleton.key")
    mode = singleton.get("mode")
    if mode is not None and (not isinstance(mode, str) or mode.lower() not in _SINGLETON_MODES):
        errors.append(f'singleton.mode must be "skip" or "cancel", not {mode!r}')
    return errors


def _check_idempotency(raw: Object) -> list[str]:
    expression = raw.get("idempotency")
    if expression is None or expression == "":
        return []
    if not isinstance(expression, str):
        return [f"idempotency must be a string, not {json_kind(expression)}"]
    return _check_expression(expression)


def _check_timeouts(raw: Object) -> list[str]:
    timeouts = raw.get("timeouts")
    if timeouts is None:
        return []
    if not isinstance(timeouts, typing.Mapping):
        return [f"timeouts must be an object, not {json_kind(timeouts)}"]
    return [*_check_timeout(timeouts.get("start"), "timeouts.start"),
            *_check_timeout(timeouts.get("finish"), "timeouts.finish")]


def _check_timeout(value: JSON, field: str, *, dates: bool = False) -> list[str]:
    """An optional timeout: a duration (or, with ``dates``, a time), however long.

    The real server accepts any string here and ignores one it cannot parse; refused
    instead, as such a timeout would never apply (docs/compatibility.md).
    """
    if value is None or value == "":
        return []
    if not isinstance(value, str):
        return [f"{field} must be a string, not {json_kind(value)}"]
    if dates and len(value) >= 10 and timeparse.parse_date(value) is not None:
        return []
    if _seconds(value) is None:
        return [f"{field} is not a duration: {value!r}"]
    return []


def _check_expression(expression: JSON) -> list[str]:
    if not isinstance(expression, str):
        return [f"Invalid expression: {expression!r}"]
    return _try(lambda: cel.validate(expression), ValueError)


def _check_string(value: JSON, field: str) -> list[str]:
    if value is None or isinstance(value, str):
        return []
    return [f"{field} must be a string, not {json_kind(value)}"]


def _check_integer(value: JSON, field: str, bounds: tuple[int, int]) -> list[str]:
    """An optional whole number that fits the server's integer type (not a float, not a bool)."""
    if value is None:
        return []
    low, high = bounds
    # Go's decoder reads -0 into a signed integer as 0, and refuses it for an unsigned one.
    whole = go_int(value) if low < 0 else value
    if isinstance(whole, bool) or not isinstance(whole, int):
        return [f"{field} must be an integer, not {json_kind(value)}"]
    value = whole
    if not low <= value <= high:
        return [f"{field} must be an integer from {low} to {high}, not {value}"]
    return []


def _seconds(text: str) -> float | None:
    try:
        return timeparse.parse_duration(text)
    except timeparse.DurationError:
        return None


def _try(check: typing.Callable[[], object], error: type[Exception]) -> list[str]:
    try:
        check()
    except error as err:
        return [str(err)]
    return []
