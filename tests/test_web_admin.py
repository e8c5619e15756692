"""Admin and quarantine pages: accounts, village import, audit log, submissions in scope."""
import io
import re

import pytest
from pony.orm import db_session

from .browser.pages import csrf_token, sign_in, with_pages
from .browser.survey_data import load_survey


@pytest.fixture
def admin(app):
    client = with_pages(app).test_client()
    sign_in(client, "admin")
    return client


def post(client, path, data, page="/users", **kwargs):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)}, **kwargs)


def user_id(store, username):
    with db_session:
        return store.User.get(username=username).id


def test_an_admin_creates_an_account_with_role_and_scope(admin, store):
    response = post(admin, "/users", {"username": "nguyenvana", "display_name": "Nguyễn Văn A",
                                      "role": "district_staff", "scope": "627", "password": "mật-khẩu-dài"})
    assert response.status_code == 302
    with db_session:
        user = store.User.get(username="nguyenvana")
        assert user.role == "district_staff" and [u.code for u in user.scope] == ["627"]
        assert store.AuditEntry.get(action="user_created", target="nguyenvana").actor == "admin"


def test_a_scope_that_does_not_fit_the_role_is_explained(admin, store):
    data = {"username": "x1", "role": "district_staff", "scope": "23722", "password": "mật-khẩu-dài"}
    response = post(admin, "/users", data)  # Vietnamese, the default
    assert response.status_code == 422 and "còn 23722 là cấp" in response.get_data(as_text=True)
    assert "is a commune" not in response.get_data(as_text=True)
    admin.get("/lang/en")
    response = post(admin, "/users", data)
    assert response.status_code == 422 and "is a commune" in response.get_data(as_text=True)
    with db_session:
        assert not store.User.exists(username="x1")


def test_disabling_an_account_ends_its_access_and_enabling_restores_it(admin, app, store, token_for):
    headers = token_for("staff_pleiku")
    target = user_id(store, "staff_pleiku")
    assert post(admin, f"/users/{target}/active", {"active": "0"}).status_code == 302
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    other = app.test_client()
    assert sign_in(other, "staff_pleiku").status_code == 401
    post(admin, f"/users/{target}/active", {"active": "1"})
    assert sign_in(other, "staff_pleiku").status_code == 302


def test_a_password_reset_is_shown_once_and_works(admin, app, store):
    response = post(admin, f"/users/{user_id(store, 'staff_pleiku')}/password", {})
    password = re.search(r'<code class="secret">([^<]+)</code>', response.get_data(as_text=True)).group(1)
    assert sign_in(app.test_client(), "staff_pleiku", password).status_code == 302
    assert password not in admin.get("/users").get_data(as_text=True)


def test_changing_role_and_scope(admin, store):
    target = user_id(store, "collector_phuhoa")
    assert post(admin, f"/users/{target}/role", {"role": "district_staff", "scope": "627"}).status_code == 302
    with db_session:
        assert store.User[target].role == "district_staff"
    assert post(admin, f"/users/{target}/role", {"role": "collector", "scope": "999999"}).status_code == 422


def upload(client, text):
    return client.post("/units", data={"csrf_token": csrf_token(client, "/units"),
                                       "file": (io.BytesIO(text.encode("utf-8")), "villages.csv")},
                       content_type="multipart/form-data")


def test_a_village_csv_with_bad_lines_shows_every_line_and_imports_nothing(admin, store):
    response = upload(admin, "code,name,level,parent_code,expected_households\n"
                             "2372201,Làng Kép,village,23722,abc\n2372202,,village,23722,\n"
                             "2372203,Làng Mới,village,99999,\n")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.findall(r'data-line="(\d+)"', page) == ["2", "3", "4"]
    with db_session:
        assert not store.Unit.exists(code="2372203")


def test_a_good_village_csv_is_imported_and_audited(admin, store):
    response = upload(admin, "code,name,level,parent_code,expected_households\n2372201,Làng Kép,village,23722,120\n")
    assert response.status_code == 200 and "1 mới" in response.get_data(as_text=True)
    with db_session:
        assert store.Unit.get(code="2372201").expected_households == 120
        assert store.AuditEntry.exists(action="units_imported")


def test_the_audit_log_filters_by_action_and_person(admin, app):
    sign_in(app.test_client(), "staff_chupah", "sai-mật-khẩu")
    page = admin.get("/audit?action=login_failed").get_data(as_text=True)
    assert 'data-action="login_failed"' in page and 'data-action="web_login"' not in page
    page = admin.get("/audit?actor=admin").get_data(as_text=True)
    assert 'data-action="web_login"' in page and 'data-action="login_failed"' not in page
    assert admin.get("/audit?since=2000-01-01&until=not-a-date").status_code == 200


@pytest.fixture
def survey(store):
    return load_survey(store)


def test_district_staff_see_the_quarantine_of_their_district_only(app, survey):
    chupah, pleiku = (with_pages(app).test_client() for _ in range(2))
    sign_in(chupah, "staff_chupah")
    sign_in(pleiku, "staff_pleiku")
    assert 'data-instance="uuid:2372201-10"' in chupah.get("/submissions").get_data(as_text=True)
    assert 'data-instance="uuid:2372201-10"' not in pleiku.get("/submissions").get_data(as_text=True)


def quarantined_id(store):
    with db_session:
        return store.Submission.get(instance_id="uuid:2372201-10").id


def test_a_quarantined_record_shows_its_errors_and_edited_answers_are_rechecked(app, survey, store):
    client = with_pages(app).test_client()
    sign_in(client, "staff_chupah")
    number = quarantined_id(store)
    page = client.get(f"/submissions/{number}").get_data(as_text=True)
    assert "answers.adults_smartphone" in page
    text = re.search(r'<textarea name="text" id="text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    text = text.replace("&#34;", '"').replace('"adults_smartphone": 7', '"adults_smartphone": 1')
    response = post(client, f"/submissions/{number}/decide", {"action": "check", "text": text},
                    page=f"/submissions/{number}")
    assert response.status_code == 200 and "đạt mọi kiểm tra" in response.get_data(as_text=True)
    bad = post(client, f"/submissions/{number}/decide", {"action": "check", "text": "[1]"},
               page=f"/submissions/{number}")
    assert bad.status_code == 422


def test_staff_outside_the_district_cannot_open_or_decide_a_record(app, survey, store):
    client = with_pages(app).test_client()
    sign_in(client, "staff_pleiku")
    number = quarantined_id(store)
    assert client.get(f"/submissions/{number}").status_code == 403
    assert post(client, f"/submissions/{number}/decide", {"action": "discard"}, page="/submissions").status_code == 403


def test_collectors_see_the_status_of_their_own_submissions_read_only(app, survey, store):
    client = with_pages(app).test_client()
    sign_in(client, "collector_phuhoa")
    page = client.get("/submissions").get_data(as_text=True)
    assert page.count('data-status="accepted"') == 12 and 'data-status="rejected"' in page
    assert "uuid:2357201-1" not in page  # sent by someone else
    detail = client.get(f"/submissions/{quarantined_id(store)}").get_data(as_text=True)
    assert "answers.adults_smartphone" in detail and 'name="action"' not in detail
    assert post(client, f"/submissions/{quarantined_id(store)}/decide", {"action": "check"},
                page="/submissions").status_code == 403
