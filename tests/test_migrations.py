"""Schema versions: a fresh database is current, upgrades run once and in order."""
from pony.orm import db_session

from sync import migrations
from sync.migrations import Migration


def test_a_fresh_database_is_at_the_latest_version(app, store):
    assert migrations.current_version(store) == migrations.latest_version()
    assert migrations.pending(store) == []


def test_upgrade_applies_new_migrations_in_order_once(app, store):
    future = migrations.MIGRATIONS + (
        Migration(101, "add a note column", {p: ["ALTER TABLE unit ADD COLUMN note TEXT"]
                                               for p in ("sqlite", "postgres")}),
        Migration(102, "fill it", {p: ["UPDATE unit SET note = 'x' WHERE code = '64'"]
                                   for p in ("sqlite", "postgres")}),
    )
    applied = migrations.upgrade(store, future)
    assert [m.version for m in applied] == [101, 102]
    assert migrations.upgrade(store, future) == []
    with db_session:
        assert store.select("SELECT note FROM unit WHERE code = '64'") == ["x"]
    assert migrations.current_version(store) == 102


def test_an_older_database_is_refused_until_upgraded(app, store, client, runner):
    migrations.stamp(store, 1)
    app.extensions.pop("langso_schema_ok", None)
    refused = client.get("/api/v1/health")
    assert refused.status_code == 503 and "langso db upgrade" in refused.json["message"]
    assert "applied 2" in runner.invoke(["db", "upgrade"]).output
    app.extensions.pop("langso_schema_ok", None)
    assert client.get("/api/v1/health").status_code == 200
