"""Web pages: signing in and out with CSRF, language, headers, who may open which page."""
import pytest
from pony.orm import db_session

from .browser.pages import csrf_token, sign_in, with_pages
from .conftest import PASSWORD


@pytest.fixture
def web(app):
    return with_pages(app).test_client()


def test_the_login_page_is_in_vietnamese_and_switches_to_english(web):
    page = web.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in page and '<html lang="vi">' in page
    web.get("/lang/en?next=/login")
    page = web.get("/login").get_data(as_text=True)
    assert "Sign in" in page and '<html lang="en">' in page


def test_a_user_signs_in_with_the_form_and_lands_on_the_dashboard(web):
    response = sign_in(web, "staff_chupah")
    assert response.status_code == 302 and web.get(response.headers["Location"]).headers["Location"] == "/dashboard"
    assert "Huyện Chư Păh" in web.get("/dashboard").get_data(as_text=True)


def test_a_wrong_password_shows_an_error_and_is_audited(web, store):
    response = sign_in(web, "staff_chupah", "sai-mật-khẩu")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.get_data(as_text=True)
    with db_session:
        assert store.AuditEntry.get(action="login_failed").target == "staff_chupah"


def test_repeated_failed_logins_make_this_address_wait(web):
    for _ in range(5):
        sign_in(web, "staff_chupah", "sai-mật-khẩu")
    response = sign_in(web, "staff_chupah")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "hãy đợi" in response.get_data(as_text=True)


def test_a_login_post_without_csrf_token_is_refused(web):
    response = web.post("/login", data={"username": "staff_chupah", "password": PASSWORD})
    assert response.status_code == 403
    assert web.get("/dashboard").status_code == 302


def test_a_cookie_authenticated_post_without_csrf_token_changes_nothing(web, store):
    sign_in(web, "admin")
    response = web.post("/users", data={"username": "mallory", "role": "admin", "password": "xxxxxxxxxx"})
    assert response.status_code == 403
    assert "tải lại trang" in response.get_data(as_text=True)
    with db_session:
        assert not store.User.exists(username="mallory")


def test_signing_out_needs_a_post_with_the_token_and_ends_the_session(web):
    sign_in(web, "staff_chupah")
    assert web.get("/logout").status_code == 405
    response = web.post("/logout", data={"csrf_token": csrf_token(web, "/dashboard")})
    assert response.status_code == 302
    assert web.get("/dashboard").headers["Location"].startswith("/login")


def test_anonymous_visitors_are_sent_to_login_and_back(web):
    response = web.get("/dashboard/627?round=2025")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    response = web.post("/login?next=/dashboard/627", data={"username": "staff_chupah", "password": PASSWORD,
                                                             "csrf_token": csrf_token(web)})
    assert response.headers["Location"] == "/dashboard/627"


def test_login_never_redirects_to_another_site(web):
    response = web.post("/login?next=//evil.example/x", data={
        "username": "staff_chupah", "password": PASSWORD, "csrf_token": csrf_token(web)})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("path", ["/forms", "/users", "/units", "/audit", "/forms/household_digital"])
def test_collectors_and_district_staff_cannot_open_admin_pages(web, path):
    for username in ("collector_phuhoa", "staff_chupah"):
        sign_in(web, username)
        response = web.get(path)
        assert response.status_code == 403, (username, path)
        assert "Bạn không có quyền truy cập trang này" in response.get_data(as_text=True)


def test_pages_carry_security_headers_and_are_not_cached(web):
    response = web.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.get_data(as_text=True)


def test_static_files_are_served_locally(web):
    page = web.get("/login").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page
    for name in ("style.css", "app.js", "preview.js", "favicon.svg"):
        assert web.get(f"/static/{name}").status_code == 200


def test_unknown_pages_get_an_html_404_and_the_api_keeps_json(web):
    assert "Không tìm thấy trang" in web.get("/no-such-page").get_data(as_text=True)
    assert web.get("/api/v1/no-such").json["code"] == "not_found"


def test_collectors_start_on_their_own_submissions(web):
    sign_in(web, "collector_phuhoa")
    assert web.get("/").headers["Location"] == "/submissions"
