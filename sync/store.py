"""The database of record: Pony entities for units, people, forms, submissions and roll-up sums.

Each call to `open_store` makes its own `pony.orm.Database`, so an app, a test or a
CLI command gets a database of its own; nothing here imports Flask.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from pony.orm import Database, Json, Optional, PrimaryKey, Required, Set, composite_index, composite_key, db_session

from .errors import StorageFailed

ROLES = ("collector", "district_staff", "admin")
BUSY_TIMEOUT_S = 30  # seconds a writer waits for another process's SQLite lock
CHECKPOINT_ROWS = 2000  # submissions ingest writes between WAL checkpoints (about SQLite's default 1000 pages)

# The names `sync`'s annotations give the database of record and its rows: a Database made by
# open_store (its entities declared by define_entities), and one of its entity objects (Unit, User,
# Submission...). Pony builds the entity classes per Database at run time, so a row is just Any.
Store = Database
Entity = Any


def define_entities(db: Store) -> None:
    """Declare every entity on `db` (called once per Database)."""

    class SchemaInfo(db.Entity):
        """Key/value facts about the schema itself (its migration version)."""
        _table_ = "schema_info"
        key = PrimaryKey(str)
        value = Required(str)

    class Unit(db.Entity):
        """An administrative unit: province, district, commune or village (levels are data)."""
        _table_ = "unit"
        code = Required(str, unique=True)
        name = Required(str)
        level = Required(str)
        kind = Optional(str)
        parent = Optional("Unit", reverse="children")
        children = Set("Unit", reverse="parent")
        path = Required(str, index=True)
        depth = Required(int)
        expected_households = Optional(int)
        updated_at = Required(datetime, default=datetime.utcnow)
        users = Set("User", reverse="scope")
        submissions = Set("Submission")
        rollup_sums = Set("RollupSum")
        household_counts = Set("HouseholdCount")

    class User(db.Entity):
        """A person who signs in; `scope` holds the units they may see and write."""
        _table_ = "app_user"
        username = Required(str, unique=True)
        display_name = Optional(str)
        role = Required(str, py_check=lambda role: role in ROLES)
        password_hash = Required(str)
        active = Required(bool, default=True)
        scope = Set(Unit, reverse="users")
        created_at = Required(datetime, default=datetime.utcnow)
        tokens = Set("ApiToken")

        def __repr__(self):
            return f"<User {self.username} {self.role}>"

    class ApiToken(db.Entity):
        """A token, stored only as its SHA-256 digest. `kind`: "api" (Bearer on /api/v1), "device"
        (ODK Collect, only on /odk/key/...) or "session" (a web sign-in, named by the session cookie)."""
        _table_ = "api_token"
        user = Required(User)
        digest = Required(str, unique=True)
        kind = Required(str, default="api")
        label = Optional(str)
        created_at = Required(datetime, default=datetime.utcnow)
        last_used_at = Optional(datetime, optimistic=False)  # written in SQL by touch_token; last one wins
        revoked_at = Optional(datetime, optimistic=False)  # revoking twice at once is no conflict

        def __repr__(self):
            return f"<ApiToken #{self.id} of {self.user.username} {self.kind}>"

    class AuditEntry(db.Entity):
        """Who did what to which thing, and when."""
        _table_ = "audit_entry"
        at = Required(datetime, default=datetime.utcnow, index=True)
        actor = Optional(str)
        action = Required(str, index=True)
        target = Optional(str)
        details = Optional(Json)

    class Form(db.Entity):
        """A survey form: one editable draft and any number of published versions."""
        _table_ = "survey_form"
        form_id = Required(str, unique=True)
        title = Optional(Json)
        draft = Optional(Json)
        draft_updated_at = Optional(datetime)
        archived = Required(bool, default=False)
        created_at = Required(datetime, default=datetime.utcnow)
        versions = Set("FormVersion")

    class FormVersion(db.Entity):
        """An immutable published version of a form, identified by its content hash."""
        _table_ = "form_version"
        form = Required(Form)
        version = Required(str)
        content_hash = Required(str)
        definition = Required(Json)
        published_at = Required(datetime, default=datetime.utcnow)
        published_by = Optional(str)
        seq = Required(int)
        composite_key(form, version)

    class SurveyRound(db.Entity):
        """A named survey period; submissions fall into the round containing collected_at's date."""
        _table_ = "survey_round"
        name = Required(str, unique=True)
        starts_on = Required(date)
        ends_on = Required(date)
        created_at = Required(datetime, default=datetime.utcnow)

    class Submission(db.Entity):
        """One household visit as received; the current one per household and round counts.

        Written in bulk by ingest with raw SQL, all of it in sync/submission_table.py. `instance_id` is the device's id
        for the primary copy; a conflicting or replaced copy is kept under a derived id with
        `copy_of` naming the device's id. Status: accepted, superseded, conflict, rejected, discarded.
        """
        _table_ = "submission"
        instance_id = Required(str, unique=True)
        copy_of = Optional(str, nullable=True)  # indexed where set (migration 3)
        form_id = Optional(str, nullable=True)
        form_version = Optional(str, nullable=True)
        village = Optional(Unit, nullable=True)
        village_code = Optional(str, nullable=True)
        household_key = Optional(str, nullable=True)
        round = Optional(str, nullable=True)
        collected_at = Optional(datetime, nullable=True)
        collected_on = Optional(date, nullable=True)
        received_at = Required(datetime)
        seq = Required(int, size=64, unique=True)
        status = Required(str, index=True)
        is_current = Required(bool, default=False)
        answers = Optional(Json, nullable=True)
        indicators = Optional(Json, nullable=True)
        refusal = Required(bool, default=False)
        errors = Optional(Json, nullable=True)
        flags = Optional(Json, nullable=True)
        supersedes = Optional(str, nullable=True)  # indexed where set (migration 3)
        content_hash = Required(str)
        collector = Optional(str, nullable=True)
        raw = Optional(Json, nullable=True, lazy=True)  # read only where shown: lists never decode it
        composite_index(village, form_id, round, household_key)
        composite_index(village, household_key)

    class RollupSum(db.Entity):
        """Per village, form, round and indicator: sums over the households counted there.

        Maintained by sync/tally.py in the ingest transaction; `households` counts the current
        submissions that gave this indicator a value.
        """
        _table_ = "rollup_sum"
        village = Required(Unit)
        form_id = Required(str)
        round = Required(str)
        indicator = Required(str)
        numerator = Required(float, default=0)
        denominator = Required(float, default=0)
        households = Required(int, default=0)
        composite_key(village, form_id, round, indicator)

    class HouseholdCount(db.Entity):
        """Per village, form and round: households counted (answered) and refusals (not in `households`)."""
        _table_ = "household_count"
        village = Required(Unit)
        form_id = Required(str)
        round = Required(str)
        households = Required(int, default=0)
        refusals = Required(int, default=0)
        composite_key(village, form_id, round)


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed `sqlite:///path` or `postgresql://user@host:port/name?options` URL."""
    provider: str
    params: dict

    @classmethod
    def parse(cls, url: str) -> Self:
        """Turn a database URL into Pony bind arguments."""
        parts = urlsplit(url)
        if parts.scheme == "sqlite":
            path = unquote(parts.path[1:])  # sqlite:///rel/path, sqlite:////abs/path
            if path in ("", ":memory:"):
                return cls("sqlite", {"filename": ":memory:", "timeout": BUSY_TIMEOUT_S})
            return cls("sqlite", {"filename": os.path.abspath(path), "create_db": True,
                                  "timeout": BUSY_TIMEOUT_S})
        if parts.scheme in ("postgresql", "postgres"):
            params = {"user": unquote(parts.username or "postgres"),
                      "host": parts.hostname or "127.0.0.1",
                      "port": parts.port or 5432,
                      "database": unquote(parts.path.lstrip("/") or "postgres")}
            if parts.password:
                params["password"] = unquote(parts.password)
            for key, values in parse_qs(parts.query).items():
                params[key] = values[-1]
            return cls("postgres", params)
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://...")


def open_store(url: str, *, create_tables: bool = True) -> Any:
    """Bind a fresh Database to `url`, creating missing tables; returns the Database."""
    db = Database()
    define_entities(db)
    target = DatabaseUrl.parse(url)
    if target.provider == "sqlite" and target.params["filename"] != ":memory:":
        _enable_wal(target.params["filename"])
    db.bind(provider=target.provider, **target.params)
    if target.provider == "sqlite" and target.params["filename"] != ":memory:" and os.name == "posix":
        db.langso_sqlite_writer = SqliteWriter(target.params["filename"])
    if target.provider == "postgres":
        _use_current_schema(db)
    db.generate_mapping(create_tables=create_tables)
    return db


class WriterLock:
    """One SQLite writer at a time across threads and processes, woken the moment the last one commits.

    SQLite's own busy handler polls with sleeps of up to 100 ms, so under steady concurrent
    ingest a waiting worker would mostly sleep; a blocking flock on a file beside the database
    hands over at once, and the kernel releases it if its holder dies.
    """

    def __init__(self, filename):
        self.path = filename + "-writer.lock"
        self.thread_lock = threading.Lock()
        self.fd = None

    @contextmanager
    def held(self) -> Iterator[Any]:
        import fcntl
        with self.thread_lock:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)


class SqliteWriter:
    """Ingest's own connection to a SQLite file (one per thread), committing without waiting for the disk.

    A batch commits inside the writer lock with synchronous=NORMAL (its WAL frames are written, not
    yet flushed), and `flush_to_disk` fsyncs the WAL after the lock is released and before any
    device is told "accepted", so the next batch is stored while this one reaches the disk. An fsync
    covers everything written to the WAL before it; frames a checkpoint has already copied into the
    database were synced there by that checkpoint (SQLite syncs both at NORMAL) before the WAL can
    be reused. Receipts call `sync` too, since a commit is visible before its fsync. A failed fsync
    stops all ingest through this writer (StorageFailed): the kernel may have dropped the pages
    while readers still see them. Every other connection keeps SQLite's synchronous=FULL.
    """

    def __init__(self, filename):
        self.filename = filename
        self.lock = WriterLock(filename)
        self.local = threading.local()
        self.counter = threading.Lock()
        self.rows = 0  # written by this process since its last checkpoint
        self.failure = None

    def connection(self) -> Any:
        """This thread's connection (opened on first use; never one inherited across a fork)."""
        return self._current().connection

    def _current(self):
        current = getattr(self.local, "current", None)
        if current is None or current.pid != os.getpid():
            current = self.local.current = WriterConnection(self.filename)
        return current

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """In the writer lock, BEGIN IMMEDIATE ... COMMIT on this thread's connection; ROLLBACK if anything fails."""
        self._refuse_after_failure()
        current = self._current()
        with self.lock.held():
            current.connection.execute("BEGIN IMMEDIATE")
            try:
                yield current.connection
                current.connection.execute("COMMIT")
            except BaseException:
                if not current.roll_back():
                    self.local.current = None  # a connection stuck in a transaction is closed, not reused
                    current.close()
                raise

    def sync(self) -> None:
        """Wait until every transaction committed so far is on disk (fsync of the WAL)."""
        self._refuse_after_failure()
        try:
            os.fsync(self._current().wal)
        except OSError as error:
            self.failure = StorageFailed(
                f"the disk did not keep the database's latest writes ({error}); stop langso, check the disk, "
                "then run `langso rollup check` and restart; devices keep their records and resend them")
            raise self.failure from error

    def flush_to_disk(self, rows: int = 0) -> None:
        """sync(), then copy the WAL into the database every CHECKPOINT_ROWS rows (outside the lock).

        SQLite would checkpoint inside a commit, holding the write lock; `rows` is how many the batch wrote.
        """
        self.sync()
        with self.counter:
            self.rows += rows
            due = self.rows >= CHECKPOINT_ROWS
            if due:
                self.rows = 0
        if due:
            self.connection().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _refuse_after_failure(self):
        if self.failure is not None:
            raise self.failure


class WriterConnection:
    """One thread's ingest connection and the WAL file it syncs (open as long as the connection is)."""

    def __init__(self, filename):
        self.pid = os.getpid()
        self.connection = sqlite3.connect(filename, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        self.connection.execute("PRAGMA foreign_keys = ON")
        self.connection.execute("PRAGMA synchronous = NORMAL")
        self.connection.execute("PRAGMA wal_autocheckpoint = 0")  # checkpointed by flush_to_disk
        self.connection.execute("PRAGMA schema_version").fetchone()  # opens the WAL; it stays while we are open
        self.wal = os.open(filename + "-wal", os.O_RDONLY)
        self.closed = weakref.finalize(self, os.close, self.wal)  # also when a thread's connection is dropped

    def roll_back(self) -> bool:
        """Undo an unfinished transaction; False when the connection cannot be trusted any more."""
        try:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
        except sqlite3.Error:
            return False
        return not self.connection.in_transaction

    def close(self) -> None:
        try:
            self.connection.close()
        finally:
            self.closed()


def sqlite_writer(db: Store) -> Any:
    """The SqliteWriter of a SQLite file store whose current session has not written yet, else None.

    A session that already writes holds SQLite's write lock on its own connection: it stores the
    batch there too, without the writer lock (waiting for it then could only stall a holder that
    waits for SQLite's lock).
    """
    writer = getattr(db, "langso_sqlite_writer", None)
    if writer is None or db._get_cache().in_transaction:
        return None
    return writer


def sync_to_disk(db: Store) -> None:
    """Before telling a device what is stored: wait until every committed batch is on disk (SQLite)."""
    writer = getattr(db, "langso_sqlite_writer", None)
    if writer is not None:
        writer.sync()


def _enable_wal(filename):
    """WAL lets readers and one writer from several worker processes share the file (it persists).

    The file holds password hashes, token digests and personal data: it is created owner-only
    (0600, its folder 0700 when langso creates it), and SQLite gives its -wal and -shm files the
    database file's mode.
    """
    os.makedirs(os.path.dirname(filename), mode=0o700, exist_ok=True)
    old_umask = os.umask(0o077)
    try:
        with closing(sqlite3.connect(filename)) as connection:
            connection.execute("PRAGMA journal_mode = WAL")
    finally:
        os.umask(old_umask)
    owner_only(filename, "-wal", "-shm")


def owner_only(path: Any, *suffixes: Any) -> None:
    """chmod 0600 the file at `path` and its companions `path + suffix` that exist (if we own them)."""
    for name in (path, *(path + suffix for suffix in suffixes)):
        try:
            if os.stat(name).st_mode & 0o077 and os.stat(name).st_uid == os.geteuid():
                os.chmod(name, 0o600)
        except FileNotFoundError:
            pass


def _use_current_schema(db):
    """Pony assumes tables live in "public"; follow the connection's search_path instead."""
    with db_session:
        db.provider.default_schema_name = db.select("SELECT current_schema()")[0]
