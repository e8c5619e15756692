"""Fixtures: a fresh real database per test (SQLite, or PostgreSQL when
LANGSO_TEST_DATABASE_URL is set), the app, its test client and CLI runner, and accounts;
the villages the ingest tests use and the ODK Collect side of the OpenRosa tests;
households posted for the export and PDF tests; a real server holding the device tests' survey."""
import json
import os
import threading

import pytest
from click.testing import CliRunner
from pony.orm import db_session
from werkzeug.serving import make_server

from server import create_app
from server.bench.loadtest import FreshDatabase, Server
from server.cli import main
from sync import accounts
from sync.accounts import issue_token
from sync.form_versions import publish_default_form
from sync.units import import_units

# CHU_PAH, CHU_PAH_COMMUNE and PLEIKU are imported here for the test modules (`from .conftest import CHU_PAH`)
from .support.databases import CHU_PAH, CHU_PAH_COMMUNE, PLEIKU, TemplateDatabase  # noqa: F401 - re-exported
from .support.ingest import VILLAGES_CSV
from .support.rollup import IN_2024, V1, V2, import_villages, rollup_submission, visit

PASSWORD = "mật-khẩu-đủ-dài"
# Cheap argon2 for the suite: in this process, in every app the fixtures make, and (through the environment)
# in the servers and commands tests start. tests/test_server.py checks that langso left alone uses
# sync.accounts.PASSWORD_HASH_PARAMETERS (64 MiB, 3 passes), which cost about a second per account here.
TEST_PASSWORD_HASH = {"time_cost": 1, "memory_cost": 64, "parallelism": 1}
os.environ["LANGSO_PASSWORD_HASH"] = json.dumps(TEST_PASSWORD_HASH)
accounts.use_password_parameters(**TEST_PASSWORD_HASH)
PLEIKU_COMMUNE = "23572"  # Phường Hoa Lư (Pleiku); Thị trấn Phú Hòa (Chư Păh) is CHU_PAH_COMMUNE
# the device tests' villages (the `survey` fixture); here, not in tests/support/devices.py, because that
# module imports PASSWORD from this one
DEVICE_VILLAGES_CSV = ("code,name,level,parent_code\n"
                       "2372201,Làng Ia Kha,village,23722\n"
                       "2372202,Tổ dân phố 2,village,23722\n"
                       "2357201,Tổ 1 Hoa Lư,village,23572\n")


def postgres_base_url():
    """The PostgreSQL server tests should use, or None for SQLite."""
    return os.environ.get("LANGSO_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """The database `app` starts from (as `langso db init` leaves it, plus one account per role), made once."""
    template = TemplateDatabase(postgres_base_url(), tmp_path_factory.mktemp("template"), PASSWORD)
    yield template
    template.drop()


@pytest.fixture
def database_url(request, tmp_path, template_database):
    """A URL to this test's own database: a SQLite file, or a fresh PostgreSQL schema dropped afterwards.

    Empty, unless the test uses `app`: then a copy of the template database (what `app` would make).
    """
    if "app" in request.fixturenames:
        database = template_database.copy(tmp_path)
    else:
        database = FreshDatabase(postgres_base_url(), tmp_path, "langso")
    yield database.url
    database.drop()


@pytest.fixture
def bare_app(database_url, tmp_path):
    """The app on this test's database (`database_url`: empty, tables created and nothing loaded, unless
    the test uses `app`)."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
                      "INSTANCE_PATH": str(tmp_path / "instance"), "PASSWORD_HASH": TEST_PASSWORD_HASH})
    yield app
    app.extensions["langso_db"].disconnect()
    app.extensions["langso_db"].provider.disconnect()


@pytest.fixture
def app(bare_app):
    """The app on a database initialised as `langso db init` does, with one account per role.

    Its database is a copy of `template_database` (tests/support/databases.initialise made it).
    """
    return bare_app


@pytest.fixture
def store(app):
    """The app's Pony Database."""
    return app.extensions["langso_db"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    """Invoke `langso` commands against this test's app."""
    class Runner(CliRunner):
        def invoke(self, args, **kwargs):
            return super().invoke(main, args, obj=app, catch_exceptions=False, **kwargs)
    return Runner()


@pytest.fixture
def token_for(store):
    """A bearer token header for a username."""
    def make(username):
        with db_session:
            secret = issue_token(store, store.User.get(username=username))
        return {"Authorization": f"Bearer {secret}"}
    return make


@pytest.fixture
def villages(store):
    """The default form published and four villages imported (three in Phú Hòa, one in Pleiku)."""
    publish_default_form(store)
    import_units(store, VILLAGES_CSV)
    return store


@pytest.fixture
def user_named(store):
    """Load a user inside the caller's db_session."""
    def load(username):
        return store.User.get(username=username)
    return load


@pytest.fixture
def odk(app):
    """The app with the default form published and villages under Phú Hòa and Pleiku."""
    store = app.extensions["langso_db"]
    publish_default_form(store)
    import_units(store, VILLAGES_CSV)
    return app


@pytest.fixture
def device_key(odk):
    """A device token for an account, as the QR code carries it."""
    store = odk.extensions["langso_db"]

    def make(username="collector_phuhoa", kind="device"):
        with db_session:
            return issue_token(store, store.User.get(username=username), kind=kind, label="test phone")
    return make


@pytest.fixture
def surveyed(store, client, token_for):
    """The default form, two villages in Thị trấn Phú Hòa and five households posted through ingest."""
    publish_default_form(store)
    import_villages(store, (V1, 20), (V2, 100))
    items = [visit(V1, "a1", "Rơ Mah Hyao"), visit(V1, "a2", "Ksor Thị Ngọc Hà", phone=None, location=None),
             rollup_submission(V1, "a3", {"consent": "no"}), visit(V2, "b1", "Nguyễn Văn Đức"),
             visit(V2, "b2", "Đinh Thị Ưng", collected_at=IN_2024)]
    response = client.post("/api/v1/submissions/batch", json={"submissions": items},
                           headers=token_for("collector_phuhoa"))
    assert [r["status"] for r in response.json["results"]] == ["accepted"] * 5, response.json
    return items


@pytest.fixture
def live_server(app, database_url, tmp_path):
    """A real gunicorn (2 workers) serving this test's database; yields its base URL.

    Starting it takes seconds: tests where gunicorn itself matters use it, others `http_server`.
    """
    server = Server(database_url, str(tmp_path), workers=2, env={"LANGSO_SECRET_KEY": "test-secret"}).start()
    yield server.base
    server.stop()


@pytest.fixture
def http_server(app):
    """This test's app served over real sockets by a thread of this process (werkzeug's server, one thread
    per request); yields its base URL. Ready at once: for devices, proxies and clients talking real HTTP."""
    served = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=served.serve_forever, name="http_server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{served.server_port}"
    served.shutdown()
    thread.join(timeout=30)
    served.server_close()


@pytest.fixture
def survey(app, store):
    """The default form published and three villages (two in collector_phuhoa's commune)."""
    publish_default_form(store)
    import_units(store, DEVICE_VILLAGES_CSV)
    return store


@pytest.fixture
def server(survey, http_server):
    """The base URL of a real HTTP server holding the survey."""
    return http_server
