"""The SQLite writer lock: ingests take turns, and a session that already writes never waits for it."""
import threading

import pytest
from pony.orm import db_session

from sync.ingest import ingest_batch
from sync.store import writer_lock

from .support.ingest import submission


@pytest.fixture
def sqlite_store(villages):
    if villages.provider_name != "sqlite":
        pytest.skip("the writer lock is for SQLite files; PostgreSQL serialises ingest with an advisory lock")
    return villages


def hold_writer_lock(store, release):
    """Hold the writer lock from another thread until `release` is set; returns (thread, held event)."""
    held = threading.Event()

    def hold():
        with db_session, writer_lock(store):
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
