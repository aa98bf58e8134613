"""Schemathesis against the live server's own OpenAPI schema: no 5xx, no answer off-schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from live import ADMIN, LiveServer

ST = str(Path(sys.executable).parent / "st")


CONFIG = str(Path(__file__).with_name("schemathesis.toml"))


# The CLI's coverage phase (each parameter's boundaries and wrong types) finds boundary bugs that schemathesis's
# pytest builder misses. For POST /events that phase is left to tests/test_event_body_boundaries.py (see the
# config file). Slow, so first.
@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_off_schema_answer(live: LiveServer) -> None:
    head_before = live.client().get("/log/head").json()
    result = subprocess.run(
        [
            ST,
            "--config-file",
            CONFIG,
            "run",
            f"{live.url}/schema/openapi.json",
            "--header",
            f"Authorization: Bearer {ADMIN}",  # every route, the authenticated ones included
            "--max-examples",
            "15",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--exclude-path",
            "/events/stream",  # an endless stream; covered by test_api's SSE test
            "--request-timeout",
            "10",
            "--generation-deterministic",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary  # not_a_server_error: any 5xx fails the run
    assert "generated" in summary
    assert "Internal error" not in live.logs()
    # Whatever schemathesis appended went through validation; the chain still verifies.
    with live.client(ADMIN) as admin:
        assert admin.post("/admin/verify").json()["ok"] is True
        assert admin.get("/log/head").json()["seq"] >= head_before["seq"]
