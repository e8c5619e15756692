"""Issue 16, accounts and credentials: device tokens only for devices, revocation on password
changes and sign-out, throttling instead of lock-out, rate limits behind a reverse proxy."""
import base64
import re
import uuid
from datetime import datetime, timedelta

import argon2
import pytest
from pony.orm import db_session

from server import create_app
from sync.accounts import issue_token, token_digest

from .browser.pages import csrf_token, sign_in, with_pages
from .conftest import PASSWORD
from .test_security import redis_url

STRANGER, OWNER, OTHER = "203.0.113.66", "198.51.100.7", "192.0.2.10"


def at(address, **headers):
    """Request arguments as if sent from `address` (the socket peer)."""
    return {"environ_base": {"REMOTE_ADDR": address}, "headers": headers}


def basic(username, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode(),
            "X-OpenRosa-Version": "1.0"}


def token_login(client, username, password, address=STRANGER, **headers):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       **at(address, **headers))


@pytest.fixture
def hashes(monkeypatch):
    """How many argon2 verifications ran (a spy: argon2 still verifies)."""
    calls = []
    verify = argon2.PasswordHasher.verify

    def counted(self, hash_, password):
        calls.append(hash_)
        return verify(self, hash_, password)
    monkeypatch.setattr(argon2.PasswordHasher, "verify", counted)
    return calls


def sessions_and_tokens(app, username):
    """A signed-in web client, an API bearer header and a device token for the account."""
    web = with_pages(app).test_client()
    assert sign_in(web, username).status_code == 302
    store = app.extensions["langso_db"]
    with db_session:
        user = store.User.get(username=username)
        api, device = issue_token(store, user), issue_token(store, user, kind="device")
    return web, {"Authorization": f"Bearer {api}"}, device


def all_revoked(app, web, bearer, device):
    client = app.test_client()
    return (client.get("/api/v1/me", headers=bearer).status_code == 401
            and client.get(f"/odk/key/{device}/formList").status_code == 403
            and web.get("/dashboard").status_code == 302)


# 1. a device token is only a device token ---------------------------------------------------------

def test_a_device_token_is_refused_as_bearer_on_the_api(odk, device_key):
    client, secret = odk.test_client(), device_key("staff_chupah")
    assert client.get(f"/odk/key/{secret}/formList").status_code == 200
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert client.get("/api/v1/sync/manifest", headers=bearer).status_code == 401
    assert client.post("/api/v1/submissions/batch", json={"submissions": []}, headers=bearer).status_code == 401


def test_a_device_token_expires_after_the_device_lifetime(odk, device_key, store):
    odk.config["DEVICE_TOKEN_TTL_DAYS"] = 180
    client, young, old = odk.test_client(), device_key(), device_key()
    with db_session:
        store.ApiToken.get(digest=token_digest(young)).created_at = datetime.utcnow() - timedelta(days=179)
        store.ApiToken.get(digest=token_digest(old)).created_at = datetime.utcnow() - timedelta(days=181)
    assert client.get(f"/odk/key/{young}/formList").status_code == 200
    expired = client.get(f"/odk/key/{old}/formList", headers={"Accept-Language": "en"})
    assert expired.status_code == 403 and "expired" in expired.get_data(as_text=True)


def test_device_tokens_are_listed_with_their_expiry_and_revoked_one_phone_at_a_time(odk, token_for):
    client, staff = odk.test_client(), token_for("staff_chupah")
    phones = [client.post("/api/v1/odk/devices/collector_phuhoa/qr", headers={**staff, "Accept": "application/json"})
              .json["server_url"] for _ in range(2)]
    listed = client.get("/api/v1/odk/devices/collector_phuhoa", headers=staff).json
    assert [t["live"] for t in listed] == [True, True]
    created = datetime.fromisoformat(listed[0]["created_at"])
    assert datetime.fromisoformat(listed[0]["expires_at"]) - created == timedelta(days=180)
    assert client.delete(f"/api/v1/odk/devices/collector_phuhoa/{listed[0]['id']}", headers=staff).status_code == 204
    newest, oldest = phones[1], phones[0]  # listed newest first
    assert client.get(newest.replace("http://localhost", "") + "/formList").status_code == 403
    assert client.get(oldest.replace("http://localhost", "") + "/formList").status_code == 200
    assert [t["live"] for t in client.get("/api/v1/odk/devices/collector_phuhoa", headers=staff).json] == [False, True]
    assert client.delete(f"/api/v1/odk/devices/staff_pleiku/{listed[1]['id']}", headers=staff).status_code == 404


def test_district_staff_issue_device_tokens_only_for_their_collectors_never_for_themselves(odk, token_for):
    client = odk.test_client()

    def qr(caller, username):
        return client.post(f"/api/v1/odk/devices/{username}/qr",
                           headers={**token_for(caller), "Accept": "application/json"}).status_code
    assert qr("staff_chupah", "collector_phuhoa") == 200
    assert qr("staff_chupah", "staff_chupah") == 403
    assert qr("staff_pleiku", "collector_phuhoa") == 404
    assert qr("admin", "staff_chupah") == 200  # admins: any non-admin account
    assert qr("admin", "admin") == 403


def test_the_cli_lists_and_revokes_single_device_tokens_and_gives_admins_none(odk, runner, device_key):
    first, second = device_key(), device_key()
    listing = runner.invoke(["device", "tokens", "collector_phuhoa"]).output
    ids = [int(line.split()[0]) for line in listing.splitlines()]
    assert len(ids) == 2 and "live" in listing and "expires" in listing
    assert "revoked 1" in runner.invoke(["device", "revoke", "collector_phuhoa", str(min(ids))]).output
    client = odk.test_client()
    assert client.get(f"/odk/key/{first}/formList").status_code == 403
    assert client.get(f"/odk/key/{second}/formList").status_code == 200
    refused = runner.invoke(["device", "qr", "admin", "--url", "https://langso.example.vn"])
    assert refused.exit_code == 1 and "admin accounts get no device tokens" in refused.output


# 2. password changes and sign-out revoke ------------------------------------------------------------

def test_an_admins_password_reset_on_the_web_revokes_tokens_devices_and_sessions(odk, store):
    web, bearer, device = sessions_and_tokens(odk, "collector_phuhoa")
    admin = with_pages(odk).test_client()
    sign_in(admin, "admin")
    with db_session:
        user_id = store.User.get(username="collector_phuhoa").id
    reset = admin.post(f"/users/{user_id}/password", data={"csrf_token": csrf_token(admin, "/users")})
    assert reset.status_code == 200
    assert all_revoked(odk, web, bearer, device)


def test_langso_users_set_password_revokes_tokens_devices_and_sessions(odk, runner):
    web, bearer, device = sessions_and_tokens(odk, "collector_phuhoa")
    result = runner.invoke(["users", "set-password", "collector_phuhoa", "--password", "mật-khẩu-mới-123"])
    assert result.exit_code == 0 and "3 token(s)" in result.output
    assert all_revoked(odk, web, bearer, device)


def test_changing_ones_own_password_revokes_tokens_devices_and_sessions(odk):
    web, bearer, device = sessions_and_tokens(odk, "collector_phuhoa")
    client = odk.test_client()
    wrong = client.post("/api/v1/me/password", json={"current_password": "không-phải", "new_password": "mới-mới-mới"},
                        headers=bearer)
    assert wrong.status_code == 422 and wrong.json["errors"][0]["field"] == "current_password"
    short = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "ngắn"},
                        headers=bearer)
    assert short.status_code == 422 and short.json["errors"][0]["field"] == "new_password"
    changed = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "mới-mới-mới"},
                          headers=bearer)
    assert changed.status_code == 204
    assert all_revoked(odk, web, bearer, device)
    assert token_login(client, "collector_phuhoa", "mới-mới-mới").status_code == 201


def copied_session(app, web):
    """A second browser holding a copy of `web`'s session cookie."""
    thief = with_pages(app).test_client()
    thief.set_cookie("session", web.get_cookie("session").value)
    return thief


def test_a_session_cookie_copied_before_sign_out_does_not_work_after_it(app):
    web = with_pages(app).test_client()
    sign_in(web, "staff_chupah")
    thief = copied_session(app, web)
    assert thief.get("/dashboard").status_code == 200
    assert web.post("/logout", data={"csrf_token": csrf_token(web, "/dashboard")}).status_code == 302
    assert thief.get("/dashboard").status_code == 302
    assert thief.get("/api/v1/me").status_code == 401


def test_a_session_cookie_does_not_come_back_when_the_account_is_enabled_again(app, store):
    web = with_pages(app).test_client()
    sign_in(web, "staff_chupah")
    admin = with_pages(app).test_client()
    sign_in(admin, "admin")
    with db_session:
        user_id = store.User.get(username="staff_chupah").id
    for active in ("0", "1"):
        admin.post(f"/users/{user_id}/active", data={"active": active, "csrf_token": csrf_token(admin, "/users")})
    assert web.get("/dashboard").status_code == 302
    assert sign_in(web, "staff_chupah").status_code == 302 and web.get("/dashboard").status_code == 200


def session_cookie(response):
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_session_cookies_are_secure_when_served_over_https(database_url, tmp_path, app):
    def signed_in_cookie(config, **headers):
        served = with_pages(create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "s",
                                        "INSTANCE_PATH": str(tmp_path), **config}))
        web = served.test_client()
        token = csrf_token(web)
        response = web.post("/login", data={"username": "staff_chupah", "password": PASSWORD, "csrf_token": token},
                            **at(OWNER, **headers))
        served.extensions["langso_db"].disconnect()
        return session_cookie(response)
    assert "Secure" in signed_in_cookie({"PUBLIC_URL": "https://langso.example.vn"})
    assert "Secure" in signed_in_cookie({"TRUSTED_PROXIES": 1}, **{"X-Forwarded-Proto": "https",
                                                                   "Referer": "https://localhost/login"})
    assert "Secure" not in signed_in_cookie({}, **{"X-Forwarded-Proto": "https"})  # no proxy trusted
    assert "Secure" not in signed_in_cookie({})


# 3. no lock-out by strangers, no user enumeration ---------------------------------------------------

def test_wrong_basic_passwords_from_a_stranger_never_lock_the_owner_out(odk):
    client = odk.test_client()
    for _ in range(8):
        assert client.get("/odk/formList", **at(STRANGER, **basic("admin", "đoán-mò"))).status_code in (401, 429)
    assert client.get("/odk/formList", **at(STRANGER, **basic("admin", PASSWORD))).status_code == 429
    assert client.get("/odk/formList", **at(OWNER, **basic("admin", PASSWORD))).status_code == 200
    assert token_login(client, "admin", PASSWORD, OWNER).status_code == 201
    web = with_pages(odk).test_client()
    token = csrf_token(web)
    assert web.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token},
                    **at(OWNER)).status_code == 302


def test_unknown_and_existing_names_are_answered_identically(client, hashes):
    def attempts(username, address):
        answers = []
        for _ in range(8):
            before = len(hashes)
            response = token_login(client, username, "đoán-mò", address)
            answers.append((response.status_code, response.json["code"],
                            re.sub(r"\d+", "N", response.json["message"]), len(hashes) - before))
        return answers
    existing, unknown = attempts("admin", STRANGER), attempts("không-có-ai", OTHER)
    assert existing == unknown
    assert existing[0][:2] == (401, "bad_credentials") and existing[0][3] == 1  # one hash, dummy or real
    assert {answer[0] for answer in existing} == {401, 429}


# 4. every password check is throttled before hashing -------------------------------------------------

def spray(client, kind, username, password, address):
    if kind == "token":
        return token_login(client, username, password, address).status_code
    if kind == "basic":
        return client.get("/odk/formList", **at(address, **basic(username, password))).status_code
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)}, **at(address)).status_code


@pytest.mark.parametrize("kind", ["token", "web", "basic"])
def test_password_spraying_from_one_address_is_stopped_before_any_hash(odk, hashes, kind):
    client = with_pages(odk).test_client()
    statuses = [spray(client, kind, f"user{n}", "mật-khẩu-phổ-biến", STRANGER) for n in range(10)]
    assert statuses == [401] * 10 and len(hashes) == 10
    assert spray(client, kind, "collector_phuhoa", "mật-khẩu-phổ-biến", STRANGER) == 429
    assert spray(client, kind, "collector_phuhoa", PASSWORD, STRANGER) == 429
    assert len(hashes) == 10  # refused before hashing
    assert spray(client, kind, "collector_phuhoa", PASSWORD, OWNER) in (200, 201, 302)


@pytest.mark.parametrize("kind", ["token", "web", "basic"])
def test_repeated_failures_for_one_name_back_off_for_that_address_only(odk, hashes, kind):
    client = with_pages(odk).test_client()
    assert [spray(client, kind, "staff_chupah", "sai", STRANGER) for _ in range(5)] == [401] * 5
    counted = len(hashes)
    assert spray(client, kind, "staff_chupah", PASSWORD, STRANGER) == 429 and len(hashes) == counted
    assert spray(client, kind, "staff_chupah", PASSWORD, OWNER) in (200, 201, 302)


def test_a_throttled_basic_answer_says_when_to_retry(odk):
    client = odk.test_client()
    for _ in range(5):
        client.get("/odk/formList", **at(STRANGER, **basic("admin", "sai")))
    throttled = client.get("/odk/formList", **at(STRANGER, **basic("admin", "sai")))
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert throttled.headers["X-OpenRosa-Version"] == "1.0"


# 5. rate limits behind the documented reverse proxy ---------------------------------------------------

def proxied_app(database_url, tmp_path, **config):
    return create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "s",
                       "INSTANCE_PATH": str(tmp_path), **config})


@pytest.mark.parametrize("trusted", [1, "127.0.0.1, ::1"])
def test_behind_a_trusted_proxy_limits_key_on_the_real_client(app, database_url, tmp_path, trusted):
    proxied = proxied_app(database_url, tmp_path, TRUSTED_PROXIES=trusted)
    client = proxied.test_client()
    for n in range(10):
        assert token_login(client, f"user{n}", "sai", "127.0.0.1", **{"X-Forwarded-For": STRANGER}).status_code == 401
    assert token_login(client, "user10", "sai", "127.0.0.1", **{"X-Forwarded-For": STRANGER}).status_code == 429
    assert token_login(client, "staff_chupah", PASSWORD, "127.0.0.1", **{"X-Forwarded-For": OWNER}).status_code == 201
    proxied.extensions["langso_db"].disconnect()


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(app, database_url, tmp_path):
    for config in ({}, {"TRUSTED_PROXIES": "10.0.0.1"}):
        served = proxied_app(database_url, tmp_path, **config)
        client = served.test_client()
        statuses = [token_login(client, f"user{n}", "sai", STRANGER,
                                **{"X-Forwarded-For": f"192.0.2.{n}"}).status_code for n in range(11)]
        assert statuses == [401] * 10 + [429]
        served.extensions["langso_db"].disconnect()


def test_successful_logins_do_not_count_against_a_limit(client):
    assert [token_login(client, "staff_chupah", PASSWORD, OWNER).status_code for _ in range(15)] == [201] * 15
    web = with_pages(client.application).test_client()
    assert [sign_in(web, "staff_chupah").status_code for _ in range(12)] == [302] * 12


def test_each_installation_names_its_rate_limit_keys():
    from server.config import instance_name
    assert instance_name("sqlite:///a/langso.db") != instance_name("sqlite:///b/langso.db")
    assert instance_name("sqlite:///a/langso.db") == instance_name("sqlite:///a/langso.db")


@pytest.mark.skipif(redis_url() is None, reason="no Redis at 127.0.0.1:6379")
def test_two_installations_sharing_a_redis_do_not_share_counters(app, database_url, tmp_path):
    shared = {"REDIS_URL": redis_url()}
    first = proxied_app(database_url, tmp_path, INSTANCE_NAME=f"a-{uuid.uuid4().hex}", **shared)
    second = proxied_app(database_url, tmp_path, INSTANCE_NAME=f"b-{uuid.uuid4().hex}", **shared)
    worker = proxied_app(database_url, tmp_path, INSTANCE_NAME=first.config["INSTANCE_NAME"], **shared)
    address = f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    for n in range(10):
        assert token_login(first.test_client(), f"user{n}", "sai", address).status_code == 401
    assert token_login(worker.test_client(), "user10", "sai", address).status_code == 429  # same installation
    assert token_login(second.test_client(), "user10", "sai", address).status_code == 401  # another one
    for served in (first, second, worker):
        served.extensions["langso_db"].disconnect()


def test_db_upgrade_drops_the_lockout_columns_of_an_older_database(app, store, runner):
    from sync import migrations
    with db_session:
        store.execute("ALTER TABLE app_user ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0")
        store.execute("ALTER TABLE app_user ADD COLUMN locked_until TIMESTAMP")
    migrations.stamp(store, 3)
    assert "applied 4" in runner.invoke(["db", "upgrade"]).output
    with db_session:
        store.execute("SELECT id FROM app_user")  # the table still reads
        cursor = store.execute("SELECT * FROM app_user")
        assert not {"failed_logins", "locked_until"} & {column[0] for column in cursor.description}
    assert migrations.upgrade(store) == []
    assert runner.invoke(["users", "create", "ctv_moi", "--role", "collector", "--scope", "23722",
                          "--password", "mật-khẩu-đủ-dài"]).exit_code == 0
