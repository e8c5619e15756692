"""The server as deployed: gunicorn workers, health, OpenAPI document, configuration."""
import os
import re
import subprocess
import sys

import requests
from argon2 import PasswordHasher
from pony.orm import db_session

from server import config, create_app
from sync.accounts import PASSWORD_HASH_PARAMETERS, create_user

from .conftest import CHU_PAH, PASSWORD, PLEIKU


def test_gunicorn_with_two_workers_serves_authenticated_requests(live_server):
    login = requests.post(f"{live_server}/api/v1/auth/token",
                          json={"username": "staff_chupah", "password": PASSWORD}, timeout=10)
    assert login.status_code == 201
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    statuses = {requests.get(f"{live_server}/api/v1/units/{code}", headers=headers, timeout=10).status_code
                for code in [CHU_PAH] * 10}
    assert statuses == {200}
    assert requests.get(f"{live_server}/api/v1/units/{PLEIKU}", headers=headers, timeout=10).status_code == 403
    assert requests.get(f"{live_server}/api/v1/me", timeout=10).status_code == 401


def test_health_names_the_database(client, store):
    assert client.get("/api/v1/health").json == {"status": "ok", "database": store.provider_name}


def test_openapi_document_describes_every_json_endpoint(app, client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    api_rules = {re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
                 for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    documented = {"/api/v1" + path.split("/api/v1", 1)[1].replace("{", "<").replace("}", ">")
                  for path in spec["paths"]}
    assert api_rules <= documented, api_rules - documented
    assert "bearer" in spec["components"]["securitySchemes"]


def test_interactive_api_page_is_served_without_a_cdn(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert "http" not in page.get_data(as_text=True).replace("http-equiv", "")
    assert client.get("/api/docs/static/swagger-ui-bundle.js").status_code == 200
    assert b"/api/openapi.json" in client.get("/api/docs/init.js").data


def test_unknown_paths_get_the_one_error_shape(client):
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.json["code"] == "not_found" and response.json["errno"] == 130


def test_environment_overrides_instance_file_and_defaults(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "langso.cfg").write_text('TOKEN_TTL_DAYS = 30\nSMALL_NUMBER_THRESHOLD = 7\n')
    monkeypatch.setenv("LANGSO_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("LANGSO_TOKEN_TTL_DAYS", "12")
    monkeypatch.delenv("LANGSO_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["TOKEN_TTL_DAYS"] == 12
    assert app.config["SMALL_NUMBER_THRESHOLD"] == 7
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance}/langso.db"
    assert (instance / "secret_key").read_text().strip() == app.config["SECRET_KEY"]
    assert config.from_environment({"LANGSO_X": "true", "OTHER": "1"}) == {"X": True}


def test_langso_left_alone_hashes_passwords_with_the_production_parameters(tmp_path):
    """argon2id with 64 MiB, 3 passes and 4 lanes; the suite's cheap parameters come from its configuration."""
    assert PASSWORD_HASH_PARAMETERS == {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LANGSO_")}
    environment.update(LANGSO_INSTANCE_PATH=str(tmp_path), LANGSO_DATABASE_URL=f"sqlite:///{tmp_path}/langso.db")
    code = ("from server import create_app; from sync.accounts import hash_password; "
            f"create_app(); print(hash_password({PASSWORD!r}))")
    made = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr[-2000:]
    assert made.stdout.strip().startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_login_rehashes_a_password_hashed_with_other_parameters(app, client, store):
    with db_session:
        create_user(store, "old_hash", "collector", ["23722"], None,
                    password_hash=PasswordHasher(**PASSWORD_HASH_PARAMETERS).hash(PASSWORD))
    login = client.post("/api/v1/auth/token", json={"username": "old_hash", "password": PASSWORD})
    assert login.status_code == 201
    with db_session:
        stored = store.User.get(username="old_hash").password_hash
    assert stored.startswith("$argon2id$v=19$m=64,t=1,p=1$")
    assert client.post("/api/v1/auth/token", json={"username": "old_hash", "password": PASSWORD}).status_code == 201
