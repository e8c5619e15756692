"""schemathesis against /api/openapi.json, every operation, as every role: no 5xx, every answer as documented.

The data is the matrix's world (default form published, villages in Phú Hòa and Pleiku, a few households);
each role calls every operation with generated parameters and bodies through the Flask app (WSGI).
"""
import contextlib
import gzip
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from .support.world import ACCOUNTS, ROLES, World

MAX_EXAMPLES = 15
CHECKS = [not_a_server_error, response_schema_conformance]
FUZZ_CASES = {}
GZIP = ("gzip", "x-gzip")


def call(case, headers):
    """Send a generated case; a body whose generated Content-Encoding is gzip is sent gzipped, so the
    batch item format is fuzzed through both decoding paths (not only refused as a broken gzip)."""
    encoding = {k.lower(): v for k, v in (case.headers or {}).items()}.get("content-encoding", "").strip().lower()
    if encoding in GZIP and case.media_type == "application/json" and isinstance(case.body, (dict, list)):
        return case.call(headers=headers, data=gzip.compress(json.dumps(case.body).encode()))
    return case.call(headers=headers)


def fuzz_operation(operation, headers, failures, max_examples=MAX_EXAMPLES, seen=None):
    """Run generated cases of one operation; failures are collected, the number of cases returned."""
    ran = []

    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):
        ran.append(1)
        response = call(case, headers)
        if seen is not None:
            seen.append((case, response))
        try:
            case.validate_response(response, checks=CHECKS)
        except AssertionError as failure:
            failures.append(f"{operation.label} -> {response.status_code}: {str(failure)[:600]}")
            raise
        except Exception as failure:  # schemathesis' grouped check failures
            failures.append(f"{operation.label} -> {response.status_code}: {str(failure)[:600]}")
            raise

    with contextlib.suppress(Exception):  # already recorded in failures, with the shrunk case
        check()
    return len(ran)


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_survives_generated_requests_as_each_role_and_answers_as_documented(app, store, role,
                                                                                            capsys):
    from server.security import limiter
    world = World(store, app.test_client())
    headers = world.headers(role) if role != "anonymous" else {}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures, cases, operations = [], 0, 0
    limiter.enabled = False
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            if role != "anonymous" and operation.method.upper() == "DELETE" and operation.path == "/api/v1/auth/token":
                continue  # would revoke the token the rest of the run uses; covered anonymously
            operations += 1
            cases += fuzz_operation(operation, headers, failures)
    finally:
        limiter.enabled = True
    FUZZ_CASES[role] = cases
    with capsys.disabled():
        print(f"\nschemathesis as {ACCOUNTS.get(role, role)}: {operations} operations, {cases} cases")
    assert operations >= 20 and cases >= operations
    assert not failures, "\n\n".join(failures)


def test_the_batch_item_format_and_the_status_query_are_fuzzed_as_documented(app, store):
    """The batch body's item schema (plain and gzipped) and the status ids reach ingest: every generated
    batch that is answered 200 has one result per item, and at least some were generated with items."""
    from server.security import limiter
    world = World(store, app.test_client())
    headers = world.headers("collector_in")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    wanted = {("POST", "/api/v1/submissions/batch"), ("GET", "/api/v1/submissions/status")}
    failures, seen, fuzzed = [], [], set()
    limiter.enabled = False
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in wanted:
                fuzzed.add((operation.method.upper(), operation.path))
                fuzz_operation(operation, headers, failures, max_examples=60, seen=seen)
    finally:
        limiter.enabled = True
    assert fuzzed == wanted
    assert not failures, "\n\n".join(failures)
    batches = [(case, response) for case, response in seen if case.operation.path.endswith("/batch")
               and response.status_code == 200]
    with_items = [(case, response) for case, response in batches if case.body.get("submissions")]
    assert with_items, "no generated batch carried items"
    for case, response in with_items:
        sent = [item["instance_id"] for item in case.body["submissions"]]
        assert [r["instance_id"] for r in response.json()["results"]] == sent
    statuses = [response for case, response in seen if case.operation.path.endswith("/status")]
    assert any(response.status_code == 200 for response in statuses)
