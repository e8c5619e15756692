"""Fresh databases for the tests, fast: initialised once per session, copied for every test that needs it.

The template holds what `langso db init` leaves (tables at the latest migration, Gia Lai's units) plus
the suite's four accounts. A copy is a real, separate database: a SQLite file copied from the template
file, or a new PostgreSQL schema made by replaying the template schema's dump (tables, sequences at
their values, rows, constraints, indexes) under the new schema's name.
"""
import shutil
import sqlite3
import subprocess
from contextlib import closing
from urllib.parse import urlsplit

from pony.orm import db_session

from server.bench.loadtest import FreshDatabase
from sync import migrations
from sync.accounts import create_user
from sync.store import open_store
from sync.units import load_gia_lai

PLEIKU, CHU_PAH = "622", "627"
CHU_PAH_COMMUNE = "23722"  # Thị trấn Phú Hòa (Chư Păh)


def initialise(store, password):
    """What `langso db init` does, plus one account per role (the suite's `app` fixture's database)."""
    migrations.upgrade(store)
    load_gia_lai(store)
    with db_session:
        create_user(store, "admin", "admin", [], password)
        create_user(store, "staff_chupah", "district_staff", [CHU_PAH], password)
        create_user(store, "staff_pleiku", "district_staff", [PLEIKU], password)
        create_user(store, "collector_phuhoa", "collector", [CHU_PAH_COMMUNE], password)


class TemplateDatabase:
    """An initialised database made once; `copy(folder)` gives a fresh database with the same contents."""

    def __init__(self, base_url, folder, password):
        self.base_url = base_url
        self.template = FreshDatabase(base_url, folder, "template")
        store = open_store(self.template.url)
        try:
            initialise(store, password)
        finally:
            store.disconnect()
            store.provider.disconnect()
        if base_url is None:
            self.path = urlsplit(self.template.url).path[1:]
            with closing(sqlite3.connect(self.path)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file copied
        else:
            self.script = self._dump()

    def copy(self, folder, name="langso"):
        """A fresh database holding the template's contents: a FreshDatabase (its `url`, `drop()`)."""
        database = FreshDatabase(self.base_url, folder, name)
        if self.base_url is None:
            shutil.copyfile(self.path, urlsplit(database.url).path[1:])
        else:
            import psycopg2
            with closing(psycopg2.connect(self.base_url)) as connection, connection, connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO off")  # a test's database outlives no crash
                cursor.execute(self.script.replace(self.template.schema, database.schema))
        return database

    def drop(self):
        self.template.drop()

    def _dump(self):
        """The template schema as SQL statements (pg_dump's plain format, rows as INSERTs), schema made apart."""
        dumped = subprocess.run(
            ["pg_dump", f"--dbname={self.base_url}", f"--schema={self.template.schema}", "--no-owner",
             "--no-privileges", "--inserts", "--rows-per-insert=1000"], capture_output=True, text=True, check=True)
        lines = [line for line in dumped.stdout.splitlines()
                 if not line.startswith("\\")  # psql meta-commands (\restrict)
                 and line.strip() != f"CREATE SCHEMA {self.template.schema};"]  # FreshDatabase makes it
        return "\n".join(lines)
