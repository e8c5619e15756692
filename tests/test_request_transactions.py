"""A request's writes are committed when the view answers and rolled back when it fails.

pony.flask commits at teardown unless an exception escapes Flask; an error turned into a response
by an error handler does not escape, so without server.db's rollback a view that wrote and then
raised would leave a half-done change behind. These tests add small routes to the real app that
write an audit row (flushed, so the INSERT has reached the database) and then fail in each way
the app knows, and look in the real database afterwards.
"""
import base64

import pytest
from flask import Blueprint, jsonify
from flask_smorest import abort as smorest_abort
from pony.orm import commit, db_session, flush
from werkzeug.exceptions import NotFound, abort

from server.errors import ApiError
from sync.errors import Invalid, NotFound as DomainNotFound

from .conftest import PASSWORD

ERROR_KEYS = {"status", "errno", "code", "message", "errors"}


@pytest.fixture
def probe(app, store):
    """The app with /api/v1/probe/<how> routes: each writes an audit row named after itself, then answers or fails."""
    bp = Blueprint("probe", __name__, url_prefix="/api/v1/probe")

    def write(target):
        store.AuditEntry(action="probe", target=target)
        flush()

    @bp.post("/ok")
    def ok():
        write("ok")
        return jsonify({"ok": True})

    @bp.post("/api-error")
    def api_error():
        write("api-error")
        raise ApiError("conflict", "the probe conflicts", [{"field": "name", "code": "taken", "message": "taken"}])

    @bp.post("/not-found")
    def not_found():
        write("not-found")
        raise NotFound()

    @bp.post("/abort-409")
    def abort_409():
        write("abort-409")
        abort(409)

    @bp.post("/unprocessable")
    def unprocessable():
        write("unprocessable")
        smorest_abort(422, messages={"json": {"name": ["Missing data for required field."]}})

    @bp.post("/domain-invalid")
    def domain_invalid():
        write("domain-invalid")
        raise Invalid("the probe is invalid", [{"field": "name", "code": "constraint", "message": "too short"}])

    @bp.post("/domain-not-found")
    def domain_not_found():
        write("domain-not-found")
        raise DomainNotFound("no such probe")

    @bp.post("/crash")
    def crash():
        write("crash")
        raise RuntimeError("unforeseen")

    @bp.post("/answers-422")
    def answers_422():
        write("answers-422")
        return jsonify({"saved": True, "mistakes": 1}), 422

    @bp.post("/commit-then-fail")
    def commit_then_fail():
        write("kept")
        commit()
        write("undone")
        raise ApiError("bad_credentials", "wrong username or password")

    app.register_blueprint(bp)

    own = Blueprint("probe_own", __name__, url_prefix="/probe-own")

    @own.post("/fail")
    def own_fail():
        write("own-handler")
        raise ApiError("conflict", "handled by the blueprint")

    @own.errorhandler(ApiError)
    def own_handler(error):
        return error.message, 409, {"Content-Type": "text/plain"}

    app.register_blueprint(own)
    return app.test_client()


def stored(store):
    with db_session:
        return sorted(a.target for a in store.AuditEntry.select(lambda a: a.action == "probe"))


def assert_error_shape(response, status, code):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == ERROR_KEYS
    assert (body["status"], body["code"]) == (status, code)
    assert isinstance(body["errno"], int) and body["message"]
    return body


def test_a_view_that_answers_normally_commits_its_writes(probe, store):
    assert probe.post("/api/v1/probe/ok").status_code == 200
    assert stored(store) == ["ok"]


def test_an_api_error_after_a_write_answers_in_the_error_shape_and_stores_nothing(probe, store):
    body = assert_error_shape(probe.post("/api/v1/probe/api-error"), 409, "conflict")
    assert body["errors"] == [{"field": "name", "code": "taken", "message": "taken"}]
    assert stored(store) == []


def test_a_werkzeug_not_found_after_a_write_stores_nothing(probe, store):
    assert_error_shape(probe.post("/api/v1/probe/not-found"), 404, "not_found")
    assert stored(store) == []


def test_an_abort_409_after_a_write_stores_nothing(probe, store):
    assert_error_shape(probe.post("/api/v1/probe/abort-409"), 409, "conflict")
    assert stored(store) == []


def test_a_422_with_field_errors_after_a_write_stores_nothing(probe, store):
    body = assert_error_shape(probe.post("/api/v1/probe/unprocessable"), 422, "invalid")
    assert body["errors"][0]["field"] == "name"
    assert stored(store) == []


def test_a_domain_invalid_error_after_a_write_stores_nothing(probe, store):
    body = assert_error_shape(probe.post("/api/v1/probe/domain-invalid"), 422, "invalid")
    assert body["errors"] == [{"field": "name", "code": "constraint", "message": "too short"}]
    assert stored(store) == []


def test_a_domain_not_found_error_after_a_write_stores_nothing(probe, store):
    assert_error_shape(probe.post("/api/v1/probe/domain-not-found"), 404, "not_found")
    assert stored(store) == []


def test_an_unexpected_exception_after_a_write_is_a_500_and_stores_nothing(probe, store):
    body = assert_error_shape(probe.post("/api/v1/probe/crash"), 500, "server_error")
    assert "unforeseen" not in body["message"]
    assert stored(store) == []


def test_an_error_answered_by_a_blueprint_handler_stores_nothing_either(probe, store):
    response = probe.post("/probe-own/fail")
    assert (response.status_code, response.get_data(as_text=True)) == (409, "handled by the blueprint")
    assert stored(store) == []


def test_a_view_that_returns_an_error_status_itself_keeps_its_writes(probe, store):
    # As the form editor does when it saves a draft that still has mistakes.
    assert probe.post("/api/v1/probe/answers-422").status_code == 422
    assert stored(store) == ["answers-422"]


def test_what_a_failing_view_commits_on_purpose_is_kept_and_the_rest_is_undone(probe, store):
    assert_error_shape(probe.post("/api/v1/probe/commit-then-fail"), 401, "bad_credentials")
    assert stored(store) == ["kept"]


def test_after_a_failed_request_the_next_request_writes_normally(probe, store):
    probe.post("/api/v1/probe/api-error")
    probe.post("/api/v1/probe/crash")
    assert probe.post("/api/v1/probe/ok").status_code == 200
    assert stored(store) == ["ok"]


def test_a_failed_api_login_is_still_audited(client, store):
    response = client.post("/api/v1/auth/token", json={"username": "staff_chupah", "password": "wrong-password"})
    assert_error_shape(response, 401, "bad_credentials")
    with db_session:
        assert [(a.action, a.target) for a in store.AuditEntry.select()] == [("login_failed", "staff_chupah")]
        assert store.ApiToken.select().count() == 0


def test_a_failed_openrosa_basic_login_is_still_audited(client, store):
    wrong = base64.b64encode(b"collector_phuhoa:wrong-password").decode()
    response = client.get("/odk/formList", headers={"X-OpenRosa-Version": "1.0", "Authorization": f"Basic {wrong}"})
    assert response.status_code == 401
    with db_session:
        assert store.AuditEntry.get(action="login_failed").target == "collector_phuhoa"


def test_a_good_login_after_a_failed_one_issues_a_token(client, store):
    client.post("/api/v1/auth/token", json={"username": "staff_chupah", "password": "wrong-password"})
    assert client.post("/api/v1/auth/token", json={"username": "staff_chupah", "password": PASSWORD}).status_code == 201
    with db_session:
        assert store.ApiToken.select().count() == 1
        assert sorted(a.action for a in store.AuditEntry.select()) == ["login_failed", "token_created"]
