"""The OpenAPI document: litestar's, plus the event request body from the msgspec vocabulary.

``POST /events`` decodes its body itself (for precise error messages), so its
schema is added here from the same strict input Structs that decode it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

from diplo.events.validation import STRICT_TYPES
from diplo.service.examples import EXAMPLES

ASSETS = "/static/swagger"
FAVICON = "<link rel='icon' type='image/svg+xml' href='/static/favicon.svg'>"  # litestar's default is on a CDN


@cache
def _event_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    strict = list(STRICT_TYPES.values())
    (one,), components = msgspec.json.schema_components([_union(strict)], ref_template="#/components/schemas/{name}")
    return one, components


def _union(types: list[type]) -> Any:
    union: Any = types[0]
    for t in types[1:]:
        union = union | t
    return union


def with_event_bodies(document: dict[str, Any]) -> dict[str, Any]:
    one, components = _event_schemas()
    document.setdefault("components", {}).setdefault("schemas", {}).update(components)
    post = document.get("paths", {}).get("/events", {}).get("post")
    if post is not None:
        post["requestBody"] = {
            "required": True,
            "description": "One event, or a JSON array of events appended all-or-nothing.",
            "content": {
                "application/json": {
                    "schema": {"oneOf": [one, {"type": "array", "items": one, "minItems": 1, "maxItems": 10_000}]},
                    "examples": {name: {"summary": name, "value": value} for name, value in EXAMPLES.items()},
                }
            },
        }
    return document


class EventBodyJson(JsonRenderPlugin):
    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, with_event_bodies(openapi_schema))


class EventBodySwagger(SwaggerRenderPlugin):
    """The page embeds the document itself, so it needs the event bodies too (not only after a JSON fetch)."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, with_event_bodies(openapi_schema))


def config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="diplo",
        version=version,
        description="An event-sourced status service for diplomatic communication channels.",
        path="/schema",
        render_plugins=[
            EventBodySwagger(
                path="/",
                js_url=f"{ASSETS}/swagger-ui-bundle.js",
                css_url=f"{ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
                favicon=FAVICON,
            ),
            EventBodyJson(),
        ],
        use_handler_docstrings=True,
        create_examples=False,  # litestar's generated examples are random filler; ours are in examples.py
    )
