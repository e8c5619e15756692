"""Hardening: login rate limits shared by all workers, security headers, secrets kept out of logs."""
import logging
import uuid

import pytest
import redis
from pony.orm import db_session

from server import create_app

from .conftest import PASSWORD


def login(client, password="sai-mật-khẩu", username="staff_chupah"):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_failed_token_logins_are_rate_limited_with_the_one_error_shape(client):
    statuses = [login(client, username=f"user{n}").status_code for n in range(10)]
    assert statuses == [401] * 10
    limited = login(client)
    assert limited.status_code == 429
    assert limited.json["code"] == "too_many_requests" and "Retry-After" in limited.headers


def redis_url():
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return None
    return url


@pytest.mark.skipif(redis_url() is None, reason="no Redis at 127.0.0.1:6379")
def test_rate_limit_counters_are_shared_by_workers_through_redis(app, database_url, tmp_path):
    prefix = f"langso-test-{uuid.uuid4().hex}"
    workers = [create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "s",
                           "INSTANCE_PATH": str(tmp_path), "REDIS_URL": redis_url(),
                           "RATELIMIT_KEY_PREFIX": prefix}) for _ in range(2)]
    first, second = (worker.test_client() for worker in workers)
    for n in range(10):
        login(first, username=f"user{n}")
    assert login(second).status_code == 429
    for worker in workers:
        worker.extensions["langso_db"].disconnect()


def test_pages_and_api_carry_security_headers(client):
    response = client.get("/api/docs/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert client.get("/api/v1/health").headers["Cache-Control"] == "no-store"


def test_passwords_and_tokens_never_reach_the_logs(app, client, caplog, store):
    caplog.set_level(logging.DEBUG)
    token = login(client, PASSWORD).json["token"]
    client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert PASSWORD not in caplog.text and token not in caplog.text
    with db_session:
        user = store.User.get(username="staff_chupah")
        assert PASSWORD not in repr(user) and user.password_hash not in repr(user)
        assert token not in repr(list(user.tokens))


def test_logins_and_token_revocations_are_audited(client, store):
    login(client)
    token = login(client, PASSWORD).json["token"]
    client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {token}"})
    with db_session:
        actions = [a.action for a in store.AuditEntry.select().order_by(lambda a: a.id)]
    assert actions == ["login_failed", "token_created", "token_revoked"]
