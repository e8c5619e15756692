"""The SQLite writer lock and connection: ingests take turns, each batch is all or nothing,
a writing session never waits."""
import os
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
from pony.orm import db_session

from sync import store as store_module
from sync.errors import StorageFailed
from sync.ingest import ingest_batch

from .support.ingest import ingest, submission


@pytest.fixture
def sqlite_store(villages):
    if villages.provider_name != "sqlite":
        pytest.skip("the writer lock is for SQLite files; PostgreSQL serialises ingest with an advisory lock")
    return villages


def hold_writer_lock(store, release):
    """Hold the writer lock from another thread until `release` is set; returns (thread, held event)."""
    held = threading.Event()

    def hold():
        with db_session, store.langso_sqlite_writer.lock.held():
            held.set()
            release.wait(30)
    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(10)
    return thread


def ingest_in_thread(store, body):
    """Ingest `body` for the Phú Hòa collector in a thread; returns (thread, results list)."""
    results = []

    @db_session
    def run():
        body()
        results.extend(ingest_batch(store, store.User.get(username="collector_phuhoa"), [submission()]))
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, results


def test_an_ingest_waits_while_another_writer_holds_the_lock_and_then_stores(sqlite_store):
    release = threading.Event()
    holder = hold_writer_lock(sqlite_store, release)
    thread, results = ingest_in_thread(sqlite_store, lambda: None)
    thread.join(1)
    assert thread.is_alive() and results == []  # waiting its turn
    release.set()
    thread.join(30)
    holder.join(30)
    assert [r["status"] for r in results] == ["accepted"]


def test_a_session_that_already_writes_goes_ahead_without_the_writer_lock(sqlite_store):
    release = threading.Event()
    holder = hold_writer_lock(sqlite_store, release)

    def write_first():
        sqlite_store.SchemaInfo(key="written_before_ingest", value="yes")
        sqlite_store.flush()  # this session now holds SQLite's write lock
    thread, results = ingest_in_thread(sqlite_store, write_first)
    thread.join(15)  # would wait for `release` if it took the lock
    finished_while_held = not thread.is_alive()
    release.set()
    holder.join(30)
    thread.join(30)
    assert finished_while_held and [r["status"] for r in results] == ["accepted"]


def stored_keys(store):
    """Household keys stored, read on a fresh connection (only what was committed)."""
    with closing(sqlite3.connect(store.langso_sqlite_writer.filename)) as connection:
        return sorted(row[0] for row in connection.execute("SELECT household_key FROM submission"))


def test_a_batch_commits_on_the_writers_own_connection_which_alone_leaves_the_fsync_for_after_the_lock(sqlite_store):
    results = ingest(sqlite_store, [submission("hh-1"), submission("hh-2")])
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    assert stored_keys(sqlite_store) == ["hh-1", "hh-2"]
    writer = sqlite_store.langso_sqlite_writer
    assert writer.connection().execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL: synced by flush_to_disk
    with db_session:
        assert sqlite_store.select("* FROM pragma_synchronous")[0] == 2  # every other connection: FULL


def test_a_batch_that_fails_while_stored_leaves_nothing_and_the_next_batch_is_stored(sqlite_store):
    with closing(sqlite3.connect(sqlite_store.langso_sqlite_writer.filename)) as connection:
        connection.execute("CREATE TRIGGER refuse_boom BEFORE INSERT ON submission WHEN NEW.household_key = 'boom' "
                           "BEGIN SELECT RAISE(ABORT, 'boom refused'); END")
        connection.commit()
    with pytest.raises(sqlite3.IntegrityError, match="boom refused"):
        ingest(sqlite_store, [submission("hh-1"), submission("boom")])
    assert stored_keys(sqlite_store) == []
    assert not sqlite_store.langso_sqlite_writer.connection().in_transaction
    assert [r["status"] for r in ingest(sqlite_store, [submission("hh-1")])] == ["accepted"]
    assert stored_keys(sqlite_store) == ["hh-1"]


def test_after_a_failed_fsync_ingest_stops_and_stores_nothing_more(sqlite_store):
    ingest(sqlite_store, [submission("hh-1")])
    writer = sqlite_store.langso_sqlite_writer
    read_end, write_end = os.pipe()
    os.dup2(read_end, writer.local.current.wal)  # the WAL's descriptor now names a pipe: fsync fails (EINVAL)
    with pytest.raises(StorageFailed, match="stop langso, check the disk"):
        ingest(sqlite_store, [submission("hh-2")])
    with pytest.raises(StorageFailed):
        ingest(sqlite_store, [submission("hh-3")])  # refused before anything is written
    assert stored_keys(sqlite_store) == ["hh-1", "hh-2"]  # hh-2 was committed, but no device was told so
    os.close(read_end), os.close(write_end)


def test_ingest_copies_the_wal_into_the_database_file_every_checkpoint_rows(sqlite_store, monkeypatch):
    monkeypatch.setattr(store_module, "CHECKPOINT_ROWS", 3)
    database_file = Path(sqlite_store.langso_sqlite_writer.filename)
    ingest(sqlite_store, [submission("only-in-the-wal-1"), submission("only-in-the-wal-2")])
    assert stored_keys(sqlite_store) == ["only-in-the-wal-1", "only-in-the-wal-2"]
    assert b"only-in-the-wal-1" not in database_file.read_bytes()  # committed and synced, in the WAL only
    ingest(sqlite_store, [submission("only-in-the-wal-3")])  # the third row: a checkpoint is due
    assert b"only-in-the-wal-1" in database_file.read_bytes()


def test_over_http_a_failed_fsync_answers_503_storage_failed_to_uploads_and_receipts(sqlite_store, client, token_for):
    headers = token_for("collector_phuhoa")
    first = submission("hh-1")
    assert client.get("/api/v1/submissions/status?ids=x", headers=headers).status_code == 200  # the token is touched
    assert client.post("/api/v1/submissions/batch", json={"submissions": [first]}, headers=headers).status_code == 200
    assert stored_keys(sqlite_store) == ["hh-1"]
    read_end, write_end = os.pipe()
    os.dup2(read_end, sqlite_store.langso_sqlite_writer.local.current.wal)
    upload = client.post("/api/v1/submissions/batch", json={"submissions": [submission("hh-2")]}, headers=headers)
    receipt = client.get(f"/api/v1/submissions/status?ids={first['instance_id']}", headers=headers)
    for answer in (upload, receipt):  # a device keeps its records and tries again later
        assert answer.status_code == 503
        assert (answer.json["errno"], answer.json["code"]) == (991, "storage_failed")
    os.close(read_end), os.close(write_end)
