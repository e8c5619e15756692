"""Who may read which unit: the role × scope matrix over the API, and the sign-in endpoints."""
import threading

import pytest
from pony.orm import commit, db_session

from server.auth import user_for_token
from sync import access
from sync.accounts import issue_token, token_digest

from .conftest import CHU_PAH, CHU_PAH_COMMUNE, PASSWORD, PLEIKU, PLEIKU_COMMUNE

# (user, unit code, expected status of GET /api/v1/units/<code>)
UNIT_READS = [
    ("admin", "64", 200), ("admin", PLEIKU, 200), ("admin", CHU_PAH_COMMUNE, 200),
    ("staff_chupah", CHU_PAH, 200), ("staff_chupah", CHU_PAH_COMMUNE, 200),
    ("staff_chupah", PLEIKU, 403), ("staff_chupah", PLEIKU_COMMUNE, 403), ("staff_chupah", "64", 403),
    ("staff_pleiku", PLEIKU_COMMUNE, 200), ("staff_pleiku", CHU_PAH_COMMUNE, 403),
    ("collector_phuhoa", CHU_PAH_COMMUNE, 200), ("collector_phuhoa", CHU_PAH, 403),
    ("collector_phuhoa", PLEIKU_COMMUNE, 403),
]


@pytest.mark.parametrize("username,code,status", UNIT_READS)
def test_unit_reads_follow_role_and_scope(client, token_for, username, code, status):
    response = client.get(f"/api/v1/units/{code}", headers=token_for(username))
    assert response.status_code == status
    if status == 403:
        assert response.json["code"] == "forbidden" and response.json["errno"] == 121


def test_district_staff_see_their_communes_as_children(client, token_for):
    body = client.get(f"/api/v1/units/{CHU_PAH}", headers=token_for("staff_chupah")).json
    assert body["name"] == "Huyện Chư Păh"
    assert CHU_PAH_COMMUNE in {c["code"] for c in body["children"]}
    assert all(c["parent_code"] == CHU_PAH for c in body["children"])
    assert [a["code"] for a in body["ancestors"]] == ["64"]


@pytest.mark.parametrize("path", ["/api/v1/units/64", "/api/v1/me", f"/api/v1/units/{CHU_PAH}"])
def test_unauthenticated_requests_get_401_in_the_one_error_shape(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert set(response.json) == {"status", "errno", "code", "message", "errors"}
    assert response.json["code"] == "unauthorized"


def test_an_unknown_unit_is_404_and_a_bogus_token_401(client, token_for):
    assert client.get("/api/v1/units/00000", headers=token_for("admin")).status_code == 404
    assert client.get("/api/v1/units/64", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_login_gives_a_token_that_works_until_logout(client):
    response = client.post("/api/v1/auth/token", json={"username": "staff_chupah", "password": PASSWORD})
    assert response.status_code == 201
    headers = {"Authorization": f"Bearer {response.json['token']}"}
    me = client.get("/api/v1/me", headers=headers).json
    assert (me["username"], me["role"], [u["code"] for u in me["scope"]]) == \
        ("staff_chupah", "district_staff", [CHU_PAH])
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_tokens_are_stored_hashed_and_record_last_use(client, store):
    token = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}).json["token"]
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    with db_session:
        stored = store.ApiToken.select().first()
        assert token not in (stored.digest, repr(stored))
        assert stored.last_used_at is not None


def in_two_requests_at_once(app, work):
    """Run `work(store, pause)` in two request sessions; both reach pause() before the first commits.

    The second resumes only after the first has committed, the race that loses a write; returns errors.
    """
    both_paused, first_committed, failures = threading.Barrier(2), threading.Event(), []

    def request(first):
        def pause():
            both_paused.wait(timeout=10)  # a timeout breaks the barrier: BrokenBarrierError, a failure
            if not first and not first_committed.wait(timeout=10):
                raise RuntimeError("the first request did not commit within 10 s: the race was not built")
        try:
            with app.app_context(), db_session:
                work(app.extensions["langso_db"], pause)
                commit()
        except Exception as error:  # noqa: BLE001 - reported to the test
            failures.append(error)
        finally:
            if first:
                first_committed.set()
    threads = [threading.Thread(target=request, args=(first,)) for first in (True, False)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if any(thread.is_alive() for thread in threads):
        failures.append(RuntimeError("a request did not finish within 30 s"))
    return failures


def test_one_token_used_by_two_requests_at_the_same_moment_serves_both(app, store, token_for):
    secret = token_for("collector_phuhoa")["Authorization"][len("Bearer "):]

    def use_token(db, pause):
        assert db.ApiToken.get(digest=token_digest(secret)).last_used_at is None  # both read it unused
        pause()
        assert user_for_token(db, secret).username == "collector_phuhoa"  # and record its use
    assert in_two_requests_at_once(app, use_token) == []
    with db_session:
        assert store.ApiToken.select().first().last_used_at is not None


def test_wrong_passwords_make_this_address_wait_but_never_lock_the_account(client):
    stranger = {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}
    for _ in range(5):
        bad = client.post("/api/v1/auth/token", json={"username": "admin", "password": "wrong-password"}, **stranger)
        assert bad.status_code == 401 and bad.json["code"] == "bad_credentials"
    waiting = client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}, **stranger)
    assert waiting.status_code == 429 and waiting.json["code"] == "too_many_requests"
    assert client.post("/api/v1/auth/token", json={"username": "admin", "password": PASSWORD}).status_code == 201


def test_login_with_missing_fields_names_them(client):
    response = client.post("/api/v1/auth/token", json={"username": "admin"})
    assert response.status_code == 422
    assert response.json["errors"] == [{"field": "password", "code": "invalid",
                                        "message": "Missing data for required field."}]


def test_a_disabled_user_loses_access(client, runner, token_for):
    headers = token_for("staff_chupah")
    runner.invoke(["users", "disable", "staff_chupah"])
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_no_scope_means_no_access(store):
    with db_session:
        user = store.User.get(username="staff_chupah")
        user.scope.clear()
        assert not access.may(user, "read", store.Unit.get(code=CHU_PAH))


def test_collectors_write_only_villages_inside_their_scope(store):
    from sync.units import import_units
    import_units(store, f"code,name,level,parent_code\n{CHU_PAH_COMMUNE}-01,Thôn 1,village,{CHU_PAH_COMMUNE}\n")
    with db_session:
        collector = store.User.get(username="collector_phuhoa")
        assert access.may(collector, "write", store.Unit.get(code=f"{CHU_PAH_COMMUNE}-01"))
        assert not access.may(collector, "write", store.Unit.get(code=CHU_PAH_COMMUNE))
        assert not access.may(collector, "teleport", store.Unit.get(code=f"{CHU_PAH_COMMUNE}-01"))


def test_session_cookie_writes_need_a_csrf_token(app, client):
    store = app.extensions["langso_db"]
    with client.session_transaction() as session, db_session:
        session["sid"] = issue_token(store, store.User.get(username="admin"), kind="session")
    assert client.get("/api/v1/me").json["username"] == "admin"
    refused = client.delete("/api/v1/auth/token")
    assert refused.status_code == 403 and refused.json["code"] == "csrf_failed"
