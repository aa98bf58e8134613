"""POST /events at every boundary its OpenAPI document draws, in-process.

Each property of each event type, and of its first source, is set in turn to values at and just past the
edges the document gives it: each length bound, each enum member and one outside them, each numeric bound,
each format's valid and invalid form, off its pattern, null, and one value of every JSON type. Each required
property is dropped, and an unnamed one added. This is the ground schemathesis's coverage phase walks for
this operation (about 9,000 cases; tests/schemathesis.toml leaves POST /events out of that phase of the CLI
run, where it was two-thirds of the time), with answers held to more:

- a body the document refuses: 422 problem+json naming the property, alone or at index 1 of a batch, and the
  log is as it was;
- a body the document allows: 201, or a 4xx problem+json from an append rule; never a 5xx.

Whether the document refuses a body is decided by a JSON Schema validator over the served document, not by
diplo's code. The base bodies are the document's own examples, on the seeded log they are written for.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from inprocess import ADMIN, Client, InProcess

from diplo.service.runtime import seed

ANY_JSON: list[Any] = [None, True, 7, 1.5, "text", [], {}]
UNNAMED = "unnamed_property"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, dict[str, Any]]]:
    app = InProcess(tmp_path_factory.mktemp("boundaries") / "diplo.db").start()
    seed(app.app.state.runtime)
    client = app.client(ADMIN)
    yield client, client.get("/schema/openapi.json").json()
    app.stop()


def body_schema(document: dict[str, Any]) -> dict[str, Any]:
    """The request body's schema, with the components its references point into."""
    content = document["paths"]["/events"]["post"]["requestBody"]["content"]["application/json"]
    return {**content["schema"], "components": document["components"]}


def resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def text(schema: dict[str, Any], length: int) -> str:
    """A string of ``length`` characters, of the pattern's shape where it has one."""
    if schema.get("pattern", "").startswith("^https?://"):
        return ("https://example.org/" + "a" * length)[:length]
    return "a" * length


def values(schema: dict[str, Any], current: Any, document: dict[str, Any]) -> Iterator[Any]:
    """Values at and just past each edge of ``schema``, and one of every JSON type."""
    schema = resolve(schema, document)
    for branch in schema.get("anyOf", []):
        yield from values(branch, current, document)
    yield from ANY_JSON
    if "enum" in schema:
        yield from schema["enum"]
        yield "not-a-member"
    kind = schema.get("type")
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        for length in {low, max(low - 1, 0), *((high, high + 1) if high is not None else ())}:
            yield text(schema, length)
        if "pattern" in schema:
            yield "Off Pattern!"
        if schema.get("format") == "uuid":
            yield from (str(uuid.uuid4()), "not-a-uuid", str(uuid.uuid4()).upper())
        if schema.get("format") == "date":
            yield from ("2024-02-29", "2023-02-29", "2024-13-01", "20240101")
    if kind == "integer":
        for bound in ("minimum", "maximum"):
            if bound in schema:
                yield from (schema[bound] - 1, schema[bound], schema[bound] + 1)
    if kind == "array":
        item = current[0] if current else next(iter(values(schema["items"], None, document)))
        for count in {schema.get("minItems", 0), max(schema.get("minItems", 0) - 1, 0)}:
            yield [item] * count
        if "maxItems" in schema:
            yield from ([item] * schema["maxItems"], [item] * (schema["maxItems"] + 1))
        for value in values(schema["items"], item, document):
            yield [value]
    if kind == "object" and "maxProperties" in schema:
        yield {f"k{i}": "v" for i in range(schema["maxProperties"] + 1)}


def variants(base: dict[str, Any], schema: dict[str, Any], document: dict[str, Any]) -> Iterator[tuple[str, dict]]:
    """(the property changed, the body) for every edge of every property of ``base``'s type and its source."""
    for name, prop in schema["properties"].items():
        for value in values(prop, base.get(name), document):
            yield name, {**base, name: value}
        if name in schema.get("required", []):
            yield name, {key: value for key, value in base.items() if key != name}
    yield UNNAMED, {**base, UNNAMED: 1}
    source_schema = resolve(schema["properties"]["sources"]["items"], document)
    for name, prop in source_schema["properties"].items():
        for value in values(prop, base["sources"][0].get(name), document):
            body = copy.deepcopy(base)
            body["sources"][0][name] = value
            yield "sources", body
    for change in ("drop the url", "add an unnamed property"):
        body = copy.deepcopy(base)
        if change == "drop the url":
            del body["sources"][0]["url"]
        else:
            body["sources"][0][UNNAMED] = 1
        yield "sources", body


def fresh(body: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """``body`` with a new id, and a new channel if it establishes one, so appending it again is no conflict;
    with ``base``, only what ``body`` still shares with it (a body whose id or channel is the edge keeps it)."""
    base = base or body
    body = {**body}
    if body.get("id") == base.get("id"):
        body["id"] = str(uuid.uuid4())
    if body.get("type") == "channel_established" and body.get("channel") == base.get("channel"):
        body["channel"] = f"boundary-{uuid.uuid4().hex[:12]}"
    return body


def head(client: Client) -> int:
    return client.get("/log/head").json()["seq"]


def examples(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    content = document["paths"]["/events"]["post"]["requestBody"]["content"]["application/json"]
    return {name: example["value"] for name, example in content["examples"].items()}


def event_refs(document: dict[str, Any]) -> list[dict[str, str]]:
    """The references of the union a single-event body is one of (the other branch is an array of them)."""
    single, batch = body_schema(document)["oneOf"]
    assert batch["items"] == single
    return single["anyOf"]


def type_of(ref: dict[str, str], document: dict[str, Any]) -> str:
    (event_type,) = resolve(ref, document)["properties"]["type"]["enum"]
    return event_type


def test_the_examples_cover_every_event_type(served: tuple[Client, dict[str, Any]]) -> None:
    _, document = served
    types = {type_of(ref, document) for ref in event_refs(document)}
    assert set(examples(document)) == types


def test_at_every_edge_of_the_schema_a_refused_body_is_a_named_422_and_none_is_a_5xx(
    served: tuple[Client, dict[str, Any]],
) -> None:
    client, document = served
    refused = allowed = 0
    for event_type, example in examples(document).items():
        base = fresh(example)
        ref = next(ref for ref in event_refs(document) if type_of(ref, document) == event_type)
        schema = resolve(ref, document)
        # The type's own schema: a body whose type is this one can match no other branch of the document's union.
        validator = jsonschema.Draft202012Validator(
            {**ref, "components": document["components"]}, format_checker=jsonschema.FormatChecker()
        )
        before, refused_before = head(client), refused
        seen: set[str] = set()
        allowed_bodies = []
        for name, body in variants(base, schema, document):
            key = json.dumps(body, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            if validator.is_valid(body):
                allowed_bodies.append(body)
                continue
            refused += 1
            for sent, index in ((body, None), ([fresh(base), body], 1)):
                answer = client.post("/events", json=sent)
                assert answer.status_code == 422, (event_type, name, body, answer.text)
                assert answer.headers["content-type"] == "application/problem+json"
                problem = answer.json()
                assert name in problem["detail"], (event_type, name, body, problem)
                assert problem.get("index") == index, (event_type, name, problem)
        assert head(client) == before, f"{event_type}: a refused body was appended"
        assert refused > refused_before and allowed_bodies, f"{event_type}: no edge found on one side"
        for body in allowed_bodies:
            allowed += 1
            answer = client.post("/events", json=fresh(body, base))
            assert answer.status_code < 500, (event_type, body, answer.text)
            if answer.status_code != 201:
                assert answer.headers["content-type"] == "application/problem+json", (event_type, body)
    assert refused > 2_500 and allowed > 700, (refused, allowed)  # 3,098 and 950 when written


def test_a_body_that_is_not_an_event_or_a_list_of_events_is_a_422(served: tuple[Client, dict[str, Any]]) -> None:
    client, _ = served
    before = head(client)
    for body in [*ANY_JSON, [[]], [None]]:
        if body == {}:
            continue
        answer = client.post("/events", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert head(client) == before
