"""The body of ``POST runs/{id}/scores``: a JSON array of scores, read as the dev server
reads it, and the scores it answers with."""

from __future__ import annotations

import typing

from inngest._engine.http.rest_v2 import body as bodies
from inngest._engine.http.rest_v2.envelope import (
    API_ERROR, INVALID_FIELD_FORMAT, Object, V2Error, proto,
)
from inngest._engine.http.rest_v2.json_source import Source
from inngest._engine.models import JSON
from inngest._engine.payload import load_body
from inngest._engine.scores import Score, ScoreError, check as check_score

MAX_SCORES = 100
_FIELDS: bodies.Fields = {"name": "string", "value": "value", "step_id": "string",
                          "experiment": {"id": "string", "variant": "string"}}
_GO_KINDS = {str: "string", bool: "bool", int: "number", float: "number", dict: "object"}


def decode(body: bytes) -> list[dict[str, JSON]]:
    """The scores' fields, as the dev server's gateway decodes the body before the run id or
    the scores are checked; raises V2Error with its answer."""
    try:
        raw = load_body(body) if body.strip() else None
    except ValueError as err:
        raise V2Error(400, API_ERROR, str(err)) from None
    if raw is not None and not isinstance(raw, list):
        kind = _GO_KINDS.get(type(raw), "object")
        raise V2Error(400, API_ERROR, f"json: cannot unmarshal {kind} into Go value of type "
                                      "[]json.RawMessage")
    # Each score is decoded as a JSON text of its own, so errors' positions are within it.
    source = Source.of(body)
    return [bodies.message(item, _FIELDS, source.at(index).alone())
            for index, item in enumerate(raw or [])]


def check(items: list[dict[str, JSON]]) -> list[Score]:
    """The decoded scores, checked; raises V2Error with the dev server's answer."""
    if not items:
        raise V2Error(400, INVALID_FIELD_FORMAT, "At least one score is required")
    if len(items) > MAX_SCORES:
        raise V2Error(400, INVALID_FIELD_FORMAT, f"At most {MAX_SCORES} scores are allowed")
    scores = []
    for index, item in enumerate(items):
        try:
            scores.append(_score(item))
        except ScoreError as err:
            raise V2Error(400, INVALID_FIELD_FORMAT, f"scores[{index}]: {err}") from None
    return scores


def _score(item: dict[str, JSON]) -> Score:
    name = str(item.get("name") or "")
    if "value" not in item:
        raise ScoreError("Score value is required" if name.strip()
                         else "Score name is required")
    experiment = item.get("experiment")
    pair = None
    if experiment is not None:
        fields = typing.cast(typing.Mapping[str, JSON], experiment)
        pair = (str(fields.get("id") or ""), str(fields.get("variant") or ""))
    step_id = item.get("step_id")
    value = item["value"]
    # A double, as the dev server keeps it: whole numbers below 1e21 are written in full.
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        value = int(value)
    score = Score(name, value, None if step_id is None else str(step_id), pair)
    check_score(score)
    return score


def score_json(run_id: str, score: Score) -> Object:
    experiment = None if score.experiment is None else dict(
        zip(("id", "variant"), score.experiment))
    out = proto(runId=run_id, name=score.name, stepId=score.step_id, experiment=experiment)
    out["value"] = score.value
    return out
