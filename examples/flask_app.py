"""A Flask app with two durable functions, for ``python -m inngest dev``.

Terminal 1: ``python3 examples/flask_app.py`` (serves http://127.0.0.1:8000/api/inngest).
Terminal 2: ``python3 -m inngest dev -u http://127.0.0.1:8000/api/inngest``.
Then send an event, e.g. with ``python3 examples/send_event.py``.
"""

from __future__ import annotations

import datetime

import flask

import inngest
import inngest.flask

client = inngest.Inngest(app_id="flask-example", is_production=False)


@client.create_function(
    fn_id="greet-user",
    trigger=inngest.TriggerEvent(event="example/user.signed_up"),
    retries=2,
)
def greet_user(ctx: inngest.ContextSync) -> str:
    name = ctx.step.run("load-name", lambda: ctx.event.data.get("name", "friend"))
    ctx.step.sleep("pause", datetime.timedelta(seconds=2))
    score = ctx.step.invoke("score", function=score_user, data={"name": name})
    ctx.logger.info("greeting %s", name)
    return f"hello {name}, your score is {score}"


@client.create_function(fn_id="score-user", trigger=inngest.TriggerEvent(event="example/score"))
def score_user(ctx: inngest.ContextSync) -> int:
    return len(str(ctx.event.data.get("name", "")))


app = flask.Flask(__name__)
inngest.flask.serve(app, client, [greet_user, score_user])

if __name__ == "__main__":
    app.run(port=8000, threaded=True)
