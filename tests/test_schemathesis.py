"""Schemathesis against the app's own served OpenAPI schema: no 5xx, no answer off-schema.

In-process, through schemathesis's ASGI transport, one test per operation (so xdist spreads
them): positive and negative cases for every route, the authenticated ones included. The
endless SSE stream is left to test_api and test_stream_processes, which read it over a socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inprocess import ADMIN
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from diplo.events import SQLiteLog
from diplo.service.app import create_app
from diplo.service.loading import load_files, seed_files
from diplo.service.runtime import SEEDS
from diplo.service.settings import Settings

AUTH = {"Authorization": f"Bearer {ADMIN}"}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
STREAM = "GET /events/stream"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _labels() -> list[str]:
    """Every operation the app declares, as schemathesis labels them; the app's routes alone decide them, so
    no database is needed (and collection does not wait for schemathesis to read the whole document)."""
    paths = create_app().openapi_schema.to_schema()["paths"]
    labels = (f"{method.upper()} {path}" for path, item in paths.items() for method in item if method in METHODS)
    return sorted(label for label in labels if label != STREAM)


@pytest.fixture(scope="module")
def app_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BaseSchema, object]]:
    """The schema as the app serves it (with its event bodies), and the app, on the seeded record:
    the documented examples name seeded channels, so most of them are appended, not refused."""
    db: Path = tmp_path_factory.mktemp("schemathesis") / "diplo.db"
    log = SQLiteLog(db)
    load_files(log, seed_files(SEEDS), writer="seeds")
    log.close()
    app = create_app(Settings(db=db, admin_token=ADMIN, log_format="json"))
    yield schemathesis.openapi.from_asgi("/schema/openapi.json", app), app


@pytest.mark.parametrize("label", _labels())
def test_schemathesis_finds_no_server_error_and_no_off_schema_answer(
    app_schema: tuple[BaseSchema, object], label: str
) -> None:
    schema, app = app_schema
    operation = schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is declared but not served"
    documented = operation.get_strategies_from_examples()  # the OpenAPI examples, each event type's among them
    generated = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]
    cases = st.one_of(*generated, *([st.sampled_from(documented).flatmap(lambda s: s)] if documented else []))

    @given(case=cases)
    @settings(
        max_examples=15 + 2 * len(documented), deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    def answers_within_the_schema(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=AUTH, checks=CHECKS)  # not_a_server_error: any 5xx fails

    answers_within_the_schema()
    # Whatever was appended went through validation: the chain still verifies.
    with asgi.get_client(app) as client:  # type: ignore[arg-type]
        assert client.post("http://localhost/admin/verify", headers=AUTH).json()["ok"] is True
