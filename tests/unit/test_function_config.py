import datetime

import pytest

import inngest._function_config as cfg
from inngest import _errors
from inngest._client import Inngest
from inngest._handler import CommHandler

APP_URL = "http://localhost:8000/api/inngest"


def make_client() -> Inngest:
    return Inngest(app_id="my-app", is_production=False)


def noop(ctx: object) -> None:
    return None


def test_minimal_config() -> None:
    fn = make_client().create_function(fn_id="hello", trigger=cfg.TriggerEvent(event="app/hi"))(
        noop
    )
    assert fn.id == "my-app-hello"
    assert fn.local_id == "hello"
    assert fn.name == "hello"
    assert fn.get_config(APP_URL) == [
        {
            "id": "my-app-hello",
            "name": "hello",
            "triggers": [{"event": "app/hi"}],
            "steps": {
                "step": {
                    "id": "step",
                    "name": "step",
                    "runtime": {
                        "type": "http",
                        "url": APP_URL + "?fnId=my-app-hello&stepId=step",
                    },
                }
            },
        }
    ]


def test_every_option_serializes_with_wire_names() -> None:
    fn = make_client().create_function(
        fn_id="all opts",
        name="All",
        trigger=[
            cfg.TriggerEvent(event="app/a", expression="event.data.x == 1"),
            cfg.TriggerCron(cron="TZ=Europe/Paris 0 * * * *", jitter="30s"),
        ],
        retries=3,
        batch_events=cfg.Batch(max_size=10, timeout=datetime.timedelta(seconds=5), key="k"),
        cancel=[cfg.Cancel(event="app/stop", if_exp="async.data.id == event.data.id")],
        concurrency=[cfg.Concurrency(limit=2, key="event.data.user", scope="env")],
        debounce=cfg.Debounce(period=60_000, timeout=datetime.timedelta(days=14)),
        idempotency="event.data.id",
        priority=cfg.Priority(run="event.data.prio"),
        rate_limit=cfg.RateLimit(limit=5, period=datetime.timedelta(hours=36)),
        singleton=cfg.Singleton(mode="skip", key="event.data.u"),
        throttle=cfg.Throttle(limit=1, period=90_000),
        timeouts=cfg.Timeouts(finish=datetime.timedelta(minutes=90)),
    )(noop)
    config = fn.get_config(APP_URL)[0]
    assert config["triggers"] == [
        {"event": "app/a", "expression": "event.data.x == 1"},
        {"cron": "TZ=Europe/Paris 0 * * * *", "jitter": "30s"},
    ]
    assert config["steps"]["step"]["retries"] == {"attempts": 3}  # type: ignore[index]
    assert config["steps"]["step"]["runtime"]["url"] == (  # type: ignore[index]
        APP_URL + "?fnId=my-app-all+opts&stepId=step"
    )
    assert config["batchEvents"] == {"maxSize": 10, "timeout": "5s", "key": "k"}
    assert config["cancel"] == [{"event": "app/stop", "if": "async.data.id == event.data.id"}]
    assert config["concurrency"] == [{"limit": 2, "key": "event.data.user", "scope": "env"}]
    assert config["debounce"] == {"period": "1m", "timeout": "2w"}
    assert config["idempotency"] == "event.data.id"
    assert config["priority"] == {"run": "event.data.prio"}
    assert config["rateLimit"] == {"limit": 5, "period": "36h"}
    assert config["singleton"] == {"mode": "skip", "key": "event.data.u"}
    assert config["throttle"] == {"limit": 1, "period": "90s", "burst": 1}
    assert config["timeouts"] == {"finish": "90m"}


def test_on_failure_companion() -> None:
    fn = make_client().create_function(
        fn_id="f", trigger=cfg.TriggerEvent(event="e"), on_failure=noop
    )(noop)
    assert fn.on_failure_fn_id == "my-app-f-failure"
    failure = fn.get_config(APP_URL)[1]
    assert failure == {
        "id": "my-app-f-failure",
        "name": "f (failure)",
        "triggers": [
            {
                "event": "inngest/function.failed",
                "expression": "event.data.function_id == 'my-app-f'",
            }
        ],
        "steps": {
            "step": {
                "id": "step",
                "name": "step",
                "retries": {"attempts": 0},
                "runtime": {"type": "http", "url": APP_URL + "?fnId=my-app-f-failure&stepId=step"},
            }
        },
        "cancel": [],
        "concurrency": [],
    }
    assert fn.handler_for("my-app-f-failure") is noop
    assert fn.handler_for("my-app-f") is noop
    assert fn.handler_for("other") is None


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: cfg.Concurrency(limit="2"), "Concurrency.limit: must be an integer"),
        (lambda: cfg.Concurrency(limit=1, scope="world"), "Concurrency.scope"),
        (lambda: cfg.Throttle(limit=1, period=500), "Throttle.period: duration must be at least"),
        (lambda: cfg.Debounce(period=1500), "Debounce.period: duration must be a whole"),
        (lambda: cfg.Batch(max_size=0), "Batch.max_size: must be at least 1"),
        (lambda: cfg.Singleton(mode="drop"), "Singleton.mode"),
        (lambda: cfg.TriggerEvent(event=""), "TriggerEvent.event: must not be empty"),
        (lambda: cfg.RateLimit(limit=1, period="1s"), "RateLimit.period"),
    ],
)
def test_invalid_options_name_the_field(build: object, message: str) -> None:
    with pytest.raises(_errors.FunctionConfigInvalidError, match=message):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retries": 21}, "retries"),
        ({"retries": "3"}, "retries"),
        ({"trigger": "app/hi"}, "trigger"),
        ({"trigger": []}, "trigger"),
        ({"concurrency": cfg.Concurrency(limit=1)}, "concurrency"),
        ({"throttle": {"limit": 1}}, "throttle"),
        ({"fn_id": ""}, "fn_id"),
    ],
)
def test_invalid_function_options(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"fn_id": "f", "trigger": cfg.TriggerEvent(event="e")}
    args.update(kwargs)
    with pytest.raises(_errors.FunctionConfigInvalidError, match=message):
        make_client().create_function(**args)(noop)  # type: ignore[arg-type]


def test_async_handlers_are_refused_clearly() -> None:
    async def handler(ctx: object) -> None:
        return None

    client = make_client()
    # Creating succeeds (modules shared with async code must import); serving is refused.
    fn = client.create_function(fn_id="f", trigger=cfg.TriggerEvent(event="e"))(handler)
    with pytest.raises(_errors.FunctionConfigInvalidError, match="async"):
        CommHandler(client, [fn], "flask")
