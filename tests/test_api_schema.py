"""Property-based tests of every route of the HTTP API against its own OpenAPI schema
(schemathesis, through the ASGI app): whatever a client sends — valid or not — the API answers
without a server error, with a status the schema documents, and a body that matches it.

Each generated request is sent twice: as generated (its job id is random, so it meets the
"no such job" path and the input checks), and again at a real job of the key's workspace, so the
routes' other answers (a report, a conflict, a refusal, a new version) are checked too.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pipeline.httpapi import create_app

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def asgi_app(teams):
    """A fresh app over this test's copy of the teams (schemathesis calls the app it loaded the
    schema from; the app reads the data dir per request)."""
    return teams


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure here reproduces
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_route_answers_as_its_schema_says(case, asgi_app):
    headers = {"Authorization": f"Bearer {asgi_app['keys']['north_editor']}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
    if "job_id" in (case.path_parameters or {}):
        case.path_parameters["job_id"] = asgi_app["jobs"]["north"]
        case.call_and_validate(headers=headers, checks=CHECKS)
