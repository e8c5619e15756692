"""The access-control matrix: every endpoint x every role, in and out of scope, with its exact status.

The target of every request is in Chư Păh (village 2372201, commune 23722, district 627): in scope for
collector_phuhoa and staff_chupah, out of scope for collector_hoalu (Pleiku commune 23572) and
staff_pleiku (district 622). A new endpoint without a row in MATRIX fails
test_every_endpoint_of_the_app_has_a_row_in_the_matrix.
"""
import copy
import io
import uuid

import pytest
from pony.orm import db_session

from forms import household_digital
from sync.accounts import token_digest

from .conftest import PASSWORD
from .support.ingest import household, submission
from .support.openrosa import fill_instance
from .support.world import ACCOUNTS, COMMUNE, DISTRICT, FORM, ROLES, VILLAGE, World

STATIC_ENDPOINTS = {"static", "api_docs.asset"}


def form_document(form_id=None):
    doc = copy.deepcopy(household_digital())
    if form_id:
        doc["id"] = form_id
    return doc


def odk_post(w, role):
    """A household in the Chư Păh village as ODK Collect posts it."""
    xml = fill_instance(w.xform, household(), village=VILLAGE, household_key=f"hh-{uuid.uuid4().hex[:6]}")
    return {"data": {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")},
            "content_type": "multipart/form-data"}


def device_token_id(w):
    """The id of a new device token of collector_phuhoa (a phone in Chư Păh)."""
    secret = w.token("collector_phuhoa", kind="device")
    with db_session:
        return w.store.ApiToken.get(digest=token_digest(secret)).id


# (method, rule) -> (builder(world, role) -> (url, request kwargs), expected statuses in ROLES order)
# For rules with a unit, the unit is in Chư Păh: *_in roles are in scope, *_out roles are not.
MATRIX = {
    ("GET", "/"): (lambda w, r: ("/", {}), (302, 302, 302, 302, 302, 302)),
    ("GET", "/api/docs/"): (lambda w, r: ("/api/docs/", {}), (200,) * 6),
    ("GET", "/api/docs/init.js"): (lambda w, r: ("/api/docs/init.js", {}), (200,) * 6),
    ("GET", "/api/openapi.json"): (lambda w, r: ("/api/openapi.json", {}), (200,) * 6),
    ("POST", "/api/v1/auth/token"): (
        lambda w, r: ("/api/v1/auth/token", {"json": {"username": ACCOUNTS.get(r, "admin"),
                                                     "password": PASSWORD if r != "anonymous" else "wrong"}}),
        (401, 201, 201, 201, 201, 201)),
    ("DELETE", "/api/v1/auth/token"): (lambda w, r: ("/api/v1/auth/token", {}), (401, 204, 204, 204, 204, 204)),
    ("GET", "/api/v1/exports/<code>.csv"): (lambda w, r: (f"/api/v1/exports/{DISTRICT}.csv", {}),
                                            (401, 403, 403, 200, 403, 200)),
    ("GET", "/api/v1/exports/<code>.xlsx"): (lambda w, r: (f"/api/v1/exports/{DISTRICT}.xlsx", {}),
                                             (401, 403, 403, 200, 403, 200)),
    ("GET", "/api/v1/forms"): (lambda w, r: ("/api/v1/forms", {}), (401, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/forms"): (lambda w, r: ("/api/v1/forms", {"json": form_document(f"f_{uuid.uuid4().hex[:8]}")}),
                                (401, 403, 403, 403, 403, 201)),
    ("POST", "/api/v1/forms/<form_id>/archive"): (lambda w, r: (f"/api/v1/forms/{w.new_form()}/archive", {}),
                                                  (401, 403, 403, 403, 403, 200)),
    ("GET", "/api/v1/forms/<form_id>/draft"): (lambda w, r: (f"/api/v1/forms/{FORM}/draft", {}),
                                               (401, 403, 403, 403, 403, 200)),
    ("PUT", "/api/v1/forms/<form_id>/draft"): (lambda w, r: (f"/api/v1/forms/{FORM}/draft", {"json": form_document()}),
                                               (401, 403, 403, 403, 403, 200)),
    ("GET", "/api/v1/forms/<form_id>/indicators"): (lambda w, r: (f"/api/v1/forms/{FORM}/indicators", {}),
                                                    (401, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/forms/<form_id>/publish"): (lambda w, r: (f"/api/v1/forms/{w.new_form()}/publish", {"json": {}}),
                                                  (401, 403, 403, 403, 403, 201)),
    ("GET", "/api/v1/forms/<form_id>/versions"): (lambda w, r: (f"/api/v1/forms/{FORM}/versions", {}),
                                                  (401, 403, 403, 403, 403, 200)),
    ("GET", "/api/v1/forms/<form_id>/versions/<version>"): (
        lambda w, r: (f"/api/v1/forms/{FORM}/versions/2025.1", {}), (401, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/forms/import"): (
        lambda w, r: ("/api/v1/forms/import", {"data": {}, "content_type": "multipart/form-data"}),
        (401, 403, 403, 403, 403, 400)),
    ("POST", "/api/v1/forms/validate"): (lambda w, r: ("/api/v1/forms/validate", {"json": form_document()}),
                                         (401, 403, 403, 403, 403, 200)),
    ("GET", "/api/v1/health"): (lambda w, r: ("/api/v1/health", {}), (200,) * 6),
    ("GET", "/api/v1/me"): (lambda w, r: ("/api/v1/me", {}), (401, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/me/password"): (
        lambda w, r: ("/api/v1/me/password", {"json": {"current_password": "wrong", "new_password": "long-enough"}}),
        (401, 422, 422, 422, 422, 422)),
    ("DELETE", "/api/v1/odk/devices/<username>/<int:token_id>"): (
        lambda w, r: (f"/api/v1/odk/devices/collector_phuhoa/{device_token_id(w)}", {}),
        (401, 403, 403, 204, 404, 204)),
    ("GET", "/api/v1/odk/devices/<username>"): (lambda w, r: ("/api/v1/odk/devices/collector_phuhoa", {}),
                                                (401, 403, 403, 200, 404, 200)),
    ("DELETE", "/api/v1/odk/devices/<username>"): (lambda w, r: ("/api/v1/odk/devices/collector_phuhoa", {}),
                                                   (401, 403, 403, 204, 404, 204)),
    ("POST", "/api/v1/odk/devices/<username>/qr"): (lambda w, r: ("/api/v1/odk/devices/collector_phuhoa/qr", {}),
                                                    (401, 403, 403, 200, 404, 200)),
    ("GET", "/api/v1/reports/<code>.pdf"): (lambda w, r: (f"/api/v1/reports/{DISTRICT}.pdf", {}),
                                            (401, 403, 403, 200, 403, 200)),
    ("GET", "/api/v1/rollups/<unit_code>"): (lambda w, r: (f"/api/v1/rollups/{COMMUNE}", {}),
                                             (401, 200, 403, 200, 403, 200)),
    ("POST", "/api/v1/submissions/<path:instance_id>/accept"): (
        lambda w, r: (f"/api/v1/submissions/{w.quarantined()[0]}/accept",
                      {"json": {"answers": household()}}), (401, 403, 403, 200, 404, 200)),
    ("POST", "/api/v1/submissions/<path:instance_id>/discard"): (
        lambda w, r: (f"/api/v1/submissions/{w.quarantined()[0]}/discard", {"json": {"reason": "test"}}),
        (401, 403, 403, 200, 404, 200)),
    ("POST", "/api/v1/submissions/batch"): (
        lambda w, r: ("/api/v1/submissions/batch", {"json": {"submissions": [submission()]}}),
        (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/submissions/quarantine"): (lambda w, r: (f"/api/v1/submissions/quarantine?unit={VILLAGE}", {}),
                                                (401, 403, 403, 200, 403, 200)),
    ("GET", "/api/v1/submissions/status"): (
        lambda w, r: (f"/api/v1/submissions/status?ids={w.accepted['instance_id']}", {}),
        (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/sync/manifest"): (lambda w, r: ("/api/v1/sync/manifest", {}), (401, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/units/<code>"): (lambda w, r: (f"/api/v1/units/{VILLAGE}", {}), (401, 200, 403, 200, 403, 200)),
    ("GET", "/audit"): (lambda w, r: ("/audit", {}), (302, 403, 403, 403, 403, 200)),
    ("GET", "/dashboard"): (lambda w, r: ("/dashboard", {}), (302, 200, 200, 200, 200, 200)),
    ("GET", "/dashboard/<code>"): (lambda w, r: (f"/dashboard/{COMMUNE}", {}), (302, 200, 403, 200, 403, 200)),
    ("GET", "/forms"): (lambda w, r: ("/forms", {}), (302, 403, 403, 403, 403, 200)),
    ("GET", "/forms/<form_id>"): (lambda w, r: (f"/forms/{FORM}", {}), (302, 403, 403, 403, 403, 200)),
    ("POST", "/forms/<form_id>/archive"): (lambda w, r: (f"/forms/{w.new_form()}/archive", {}),
                                           (302, 403, 403, 403, 403, 302)),
    ("POST", "/forms/<form_id>/draft"): (lambda w, r: (f"/forms/{w.new_form()}/draft",
                                                       {"data": {"action": "check", "text": "id: x"}}),
                                         (302, 403, 403, 403, 403, 422)),
    ("GET", "/forms/<form_id>/preview"): (lambda w, r: (f"/forms/{FORM}/preview", {}), (302, 403, 403, 403, 403, 200)),
    ("POST", "/forms/<form_id>/preview/check"): (
        lambda w, r: (f"/forms/{FORM}/preview/check", {"json": {"answers": {"consent": "yes"}}}),
        (302, 403, 403, 403, 403, 200)),
    ("GET", "/forms/<form_id>/versions/<version>"): (lambda w, r: (f"/forms/{FORM}/versions/2025.1", {}),
                                                     (302, 403, 403, 403, 403, 200)),
    ("POST", "/forms/new"): (lambda w, r: ("/forms/new", {"data": {"text": "{}"}}), (302, 403, 403, 403, 403, 422)),
    ("GET", "/lang/<code>"): (lambda w, r: ("/lang/en", {}), (302,) * 6),
    ("GET", "/login"): (lambda w, r: ("/login", {}), (200,) * 6),
    ("POST", "/login"): (lambda w, r: ("/login", {"data": {"username": ACCOUNTS.get(r, "admin"),
                                                           "password": "wrong"}}),
                          (403, 401, 401, 401, 401, 401)),  # anonymous: no CSRF token; others: wrong password
    ("POST", "/logout"): (lambda w, r: ("/logout", {}), (302,) * 6),
    ("GET", "/odk/formList"): (lambda w, r: ("/odk/formList", {"basic": True}), (401, 200, 200, 200, 200, 200)),
    ("GET", "/odk/forms/<form_id>/<version>/form.xml"): (
        lambda w, r: (f"/odk/forms/{FORM}/2025.1/form.xml", {"basic": True}), (401, 200, 200, 200, 200, 200)),
    ("GET", "/odk/key/<token>/formList"): (
        lambda w, r: (f"/odk/key/{w.device_key(r)}/formList", {}), (403, 200, 200, 200, 200, 200)),
    ("GET", "/odk/key/<token>/forms/<form_id>/<version>/form.xml"): (
        lambda w, r: (f"/odk/key/{w.device_key(r)}/forms/{FORM}/2025.1/form.xml", {}), (403, 200, 200, 200, 200, 200)),
    ("POST", "/odk/key/<token>/submission"): (
        lambda w, r: (f"/odk/key/{w.device_key(r)}/submission", odk_post(w, r)), (403, 201, 400, 201, 400, 201)),
    ("POST", "/odk/submission"): (lambda w, r: ("/odk/submission", dict(odk_post(w, r), basic=True)),
                                  (401, 201, 400, 201, 400, 201)),
    ("GET", "/submissions"): (lambda w, r: ("/submissions", {}), (302, 200, 200, 200, 200, 200)),
    ("GET", "/submissions/<int:submission_id>"): (lambda w, r: (f"/submissions/{w.submission_id()}", {}),
                                                  (302, 200, 403, 200, 403, 200)),
    ("POST", "/submissions/<int:submission_id>/decide"): (
        lambda w, r: (f"/submissions/{w.quarantined()[1]}/decide", {"data": {"action": "discard"}}),
        (302, 403, 403, 302, 403, 302)),
    ("GET", "/units"): (lambda w, r: ("/units", {}), (302, 403, 403, 403, 403, 200)),
    ("POST", "/units"): (lambda w, r: ("/units", {"data": {}}), (302, 403, 403, 403, 403, 422)),
    ("GET", "/users"): (lambda w, r: ("/users", {}), (302, 403, 403, 403, 403, 200)),
    ("POST", "/users"): (lambda w, r: ("/users", {"data": {"username": f"u_{uuid.uuid4().hex[:6]}", "role": "collector",
                                                          "scope": COMMUNE, "password": PASSWORD}}),
                         (302, 403, 403, 403, 403, 302)),
    ("POST", "/users/<int:user_id>/active"): (lambda w, r: (f"/users/{w.new_user()}/active", {"data": {"active": "0"}}),
                                              (302, 403, 403, 403, 403, 302)),
    ("POST", "/users/<int:user_id>/password"): (lambda w, r: (f"/users/{w.new_user()}/password", {}),
                                                (302, 403, 403, 403, 403, 200)),
    ("POST", "/users/<int:user_id>/role"): (lambda w, r: (f"/users/{w.new_user()}/role",
                                                          {"data": {"role": "collector", "scope": COMMUNE}}),
                                            (302, 403, 403, 403, 403, 302)),
}
MATRIX_SIZE = len(MATRIX) * len(ROLES)


def app_endpoints(app):
    """Every (method, rule) the app serves, without static files, HEAD and OPTIONS."""
    return {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint not in STATIC_ENDPOINTS
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def call(world, method, role, build):
    """Send one request of the matrix as a role; its status code."""
    url, kwargs = build(world, role)
    kwargs = dict(kwargs)
    headers = world.headers(role, basic=kwargs.pop("basic", False))
    return world.client.open(url, method=method, headers=headers, **kwargs).status_code


@pytest.fixture
def world(app, store):
    app.config["RATELIMIT_ENABLED"] = False
    return World(store, app.test_client())


def test_every_endpoint_of_the_app_has_a_row_in_the_matrix(app):
    missing = app_endpoints(app) - set(MATRIX)
    assert not missing, f"add these endpoints to tests/test_access_matrix.py MATRIX: {sorted(missing)}"
    assert not set(MATRIX) - app_endpoints(app), "the matrix lists endpoints the app no longer has"


def test_every_endpoint_answers_every_role_in_and_out_of_scope_with_the_exact_status(world, capsys):
    from server.security import limiter
    limiter.enabled = False
    try:
        wrong = []
        for (method, rule), (build, expected) in sorted(MATRIX.items(), key=lambda item: item[0][1]):
            for role, status in zip(ROLES, expected):
                got = call(world, method, role, build)
                if got != status:
                    wrong.append(f"{method} {rule} as {role}: expected {status}, got {got}")
    finally:
        limiter.enabled = True
    with capsys.disabled():
        print(f"\naccess matrix: {len(MATRIX)} endpoints x {len(ROLES)} roles = {MATRIX_SIZE} cases")
    assert MATRIX_SIZE > 300
    assert not wrong, "\n".join(wrong)
