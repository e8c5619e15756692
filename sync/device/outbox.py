"""The device's outbox: one SQLite file holding everything a collector's phone keeps offline.

Settings (server URL, token), downloaded form definitions, villages in scope, known household
keys, the manifest cursor, and the queue of submissions. Every state change is committed at
once (WAL journal, synchronous=FULL), and a submission is written here before anything is
sent, so a crash at any point loses nothing: on restart the queue resumes where it stopped
and the server's idempotency (same instance_id, same content = duplicate) keeps one copy.

The file holds the bearer token, so it and its journal files are readable by the owner only.
"""
from __future__ import annotations

import json
import os
import sqlite3
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from ..wire import HELD

QUEUED, SENT, REJECTED = "queued", "sent", "rejected"
STATES = (QUEUED, SENT, REJECTED)
SENT_RESULTS = HELD  # the results after which the server holds a submission
FILE_NAME = "outbox.db"
SECRET_SETTINGS = ("token",)

SCHEMA = """
CREATE TABLE IF NOT EXISTS setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS form (
    form_id TEXT NOT NULL, version TEXT NOT NULL, content_hash TEXT, url TEXT,
    definition TEXT, downloaded_at TEXT, PRIMARY KEY (form_id, version));
CREATE TABLE IF NOT EXISTS village (
    code TEXT PRIMARY KEY, name TEXT NOT NULL, parent_code TEXT, level TEXT);
CREATE TABLE IF NOT EXISTS household (
    village_code TEXT NOT NULL, household_key TEXT NOT NULL, PRIMARY KEY (village_code, household_key));
CREATE TABLE IF NOT EXISTS submission (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL UNIQUE,
    form_id TEXT NOT NULL, form_version TEXT NOT NULL,
    village_code TEXT NOT NULL, household_key TEXT NOT NULL,
    collected_at TEXT NOT NULL, answers TEXT NOT NULL, supersedes TEXT,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'rejected')),
    result TEXT, errors TEXT, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    created_at TEXT NOT NULL, last_attempt_at TEXT, sent_at TEXT, history TEXT);
CREATE INDEX IF NOT EXISTS submission_state ON submission (state, seq);
"""
SCHEMA_VERSION = 1


def now_iso() -> str:
    """The current time, ISO 8601 with its UTC offset (what `collected_at` must look like)."""
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def nfc(value: Any) -> Any:
    """NFC-normalise every string inside a JSON-like value."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc(v) for v in value]
    return value


@dataclass
class Submission:
    """One household visit in the outbox, with its sync state."""
    instance_id: str
    form_id: str
    form_version: str
    village_code: str
    household_key: str
    collected_at: str
    answers: dict
    supersedes: str | None = None
    state: str = QUEUED
    result: str | None = None
    errors: list = field(default_factory=list)
    attempts: int = 0
    last_error: str | None = None
    seq: int | None = None
    sent_at: str | None = None
    history: list = field(default_factory=list)

    def wire(self) -> Any:
        """The submission in the public wire format (exactly the protocol's names)."""
        item = {"instance_id": self.instance_id, "form_id": self.form_id, "form_version": self.form_version,
                "village_code": self.village_code, "household_key": self.household_key,
                "collected_at": self.collected_at, "answers": self.answers}
        if self.supersedes:
            item["supersedes"] = self.supersedes
        return item


class Outbox:
    """The device's SQLite file; open with `Outbox.open(device_dir)`."""

    def __init__(self, path):
        self.path = str(path)
        self._connection = _connect(self.path)

    @classmethod
    def open(cls, device_dir: Any) -> Self:
        """Open (creating if needed, owner-only) the outbox inside `device_dir`."""
        os.makedirs(device_dir, mode=0o700, exist_ok=True)
        return cls(os.path.join(device_dir, FILE_NAME))

    def __repr__(self):
        return f"<Outbox {self.path}>"

    def close(self) -> None:
        """Close the file (everything is already committed)."""
        self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One committed unit of change: all of it is on disk afterwards, or none of it."""
        with self._connection:
            yield self._connection

    def _query(self, sql, params=()):
        return self._connection.execute(sql, params).fetchall()

    # settings -----------------------------------------------------------------

    def get(self, key: Any, default: Any | None = None) -> Any:
        """A setting's value (server_url, token, username, cursor, etag), or `default`."""
        rows = self._query("SELECT value FROM setting WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def set(self, **values: Any) -> None:
        """Store settings; a None value removes the setting."""
        with self.transaction() as db:
            for key, value in values.items():
                if value is None:
                    db.execute("DELETE FROM setting WHERE key = ?", (key,))
                else:
                    db.execute("INSERT INTO setting (key, value) VALUES (?, ?) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, str(value)))

    def settings(self) -> dict:
        """All settings, with secrets masked (safe to print or log)."""
        return {key: ("***" if key in SECRET_SETTINGS else value)
                for key, value in self._query("SELECT key, value FROM setting ORDER BY key")}

    # forms, villages, households --------------------------------------------------

    def save_form(self, form_id: str, version: str, content_hash: Any | None = None, url: str | None = None,
                  definition: dict[str, Any] | None = None) -> None:
        """Record a published form version (its definition when downloaded)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO form (form_id, version, content_hash, url, definition, downloaded_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (form_id, version) DO UPDATE SET "
                "content_hash = excluded.content_hash, url = coalesce(excluded.url, form.url), "
                "definition = coalesce(excluded.definition, form.definition), "
                "downloaded_at = coalesce(excluded.downloaded_at, form.downloaded_at)",
                (form_id, version, content_hash, url,
                 json.dumps(definition, ensure_ascii=False) if definition is not None else None,
                 now_iso() if definition is not None else None))

    def forget_form(self, form_id: str, version: str) -> None:
        """Drop a form version the server no longer offers (submissions made with it stay)."""
        with self.transaction() as db:
            db.execute("DELETE FROM form WHERE form_id = ? AND version = ?", (form_id, version))

    def forms(self) -> list:
        """Known form versions: dicts with form_id, version, content_hash, url, downloaded."""
        rows = self._query("SELECT form_id, version, content_hash, url, definition IS NOT NULL "
                           "FROM form ORDER BY form_id, version")
        return [{"form_id": r[0], "version": r[1], "content_hash": r[2], "url": r[3], "downloaded": bool(r[4])}
                for r in rows]

    def form_definition(self, form_id: str, version: str | None = None) -> tuple:
        """(version, definition) of a downloaded form: `version`, or the latest downloaded one."""
        rows = self._query("SELECT version, definition FROM form WHERE form_id = ? AND definition IS NOT NULL",
                           (form_id,))
        if version is not None:
            rows = [r for r in rows if r[0] == version]
        if not rows:
            return None, None
        chosen = max(rows, key=lambda r: version_key(r[0]))
        return chosen[0], json.loads(chosen[1])

    def save_villages(self, villages: Any) -> None:
        """Add or update villages in scope: dicts with code, name, parent_code, level."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO village (code, name, parent_code, level) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, "
                "level = excluded.level",
                [(str(v["code"]), nfc(v.get("name") or ""), v.get("parent_code"), v.get("level"))
                 for v in villages])

    def remove_villages(self, codes: Any) -> None:
        """Forget villages no longer in scope."""
        with self.transaction() as db:
            db.executemany("DELETE FROM village WHERE code = ?", [(str(c),) for c in codes])

    def villages(self) -> list:
        """Villages in scope, by code: dicts with code, name, parent_code, level."""
        rows = self._query("SELECT code, name, parent_code, level FROM village ORDER BY code")
        return [{"code": r[0], "name": r[1], "parent_code": r[2], "level": r[3]} for r in rows]

    def save_households(self, pairs: Any) -> None:
        """Remember (village_code, household_key) pairs already on the server."""
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO household (village_code, household_key) VALUES (?, ?)",
                           [(str(v), nfc(str(k))) for v, k in pairs])

    def remove_households(self, pairs: Any) -> None:
        """Forget household keys the server removed."""
        with self.transaction() as db:
            db.executemany("DELETE FROM household WHERE village_code = ? AND household_key = ?",
                           [(str(v), str(k)) for v, k in pairs])

    def household_keys(self, village_code: str) -> list:
        """Household keys known in a village: from the server and from this device's own visits."""
        rows = self._query("SELECT household_key FROM household WHERE village_code = ? UNION "
                           "SELECT household_key FROM submission WHERE village_code = ?",
                           (str(village_code), str(village_code)))
        return sorted(r[0] for r in rows)

    def clear_scope(self) -> None:
        """Forget villages and household keys (before a full, non-incremental pull)."""
        with self.transaction() as db:
            db.execute("DELETE FROM village")
            db.execute("DELETE FROM household")

    # submissions ------------------------------------------------------------------

    def add(self, form_id: str, form_version: Any, village_code: str, household_key: str, answers: dict[str, Any],
            collected_at: Any | None = None, supersedes: Any | None = None, instance_id: str | None = None) -> Any:
        """Queue a new household visit (committed before anything is sent); returns it."""
        item = Submission(instance_id=instance_id or str(uuid.uuid4()), form_id=form_id,
                          form_version=str(form_version), village_code=str(village_code),
                          household_key=nfc(str(household_key)), collected_at=collected_at or now_iso(),
                          answers=nfc(dict(answers)), supersedes=supersedes)
        return self.add_many([item])[0]

    def add_many(self, items: Any) -> Any:
        """Queue several Submissions in one transaction; returns them with their seq."""
        created = now_iso()
        with self.transaction() as db:
            for item in items:
                self._insert(db, item, created)
        return items

    @staticmethod
    def _insert(db, item, created):
        """Insert one queued Submission inside the caller's transaction; sets its seq."""
        cursor = db.execute(
            "INSERT INTO submission (instance_id, form_id, form_version, village_code, household_key, "
            "collected_at, answers, supersedes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (item.instance_id, item.form_id, item.form_version, item.village_code, item.household_key,
             item.collected_at, _dump(item.answers), item.supersedes, created))
        item.seq = cursor.lastrowid

    def next_batch(self, size: int, after_seq: int = 0) -> list:
        """Up to `size` queued submissions in the order they were collected, after `after_seq`."""
        rows = self._query(f"SELECT {_COLUMNS} FROM submission WHERE state = 'queued' AND seq > ? "
                           "ORDER BY seq LIMIT ?", (after_seq, size))
        return [_submission(r) for r in rows]

    def mark_attempt(self, instance_ids: Any, error: Any | None = None) -> None:
        """Count one sending attempt for each id (and the reason it failed, if it did)."""
        with self.transaction() as db:
            db.executemany("UPDATE submission SET attempts = attempts + 1, last_attempt_at = ?, "
                           "last_error = ? WHERE instance_id = ?",
                           [(now_iso(), error, i) for i in instance_ids])

    def record_results(self, results: Any) -> Any:
        """Apply the server's per-item results (one transaction); returns counts by status."""
        counts, stamp = {}, now_iso()
        with self.transaction() as db:
            for item in results:
                status = item.get("status")
                counts[status] = counts.get(status, 0) + 1
                if status in SENT_RESULTS:
                    db.execute("UPDATE submission SET state = 'sent', result = ?, errors = NULL, "
                               "last_error = NULL, sent_at = ? WHERE instance_id = ?",
                               (status, stamp, item["instance_id"]))
                elif status == "rejected":
                    db.execute("UPDATE submission SET state = 'rejected', result = 'rejected', errors = ?, "
                               "last_error = NULL, sent_at = ? WHERE instance_id = ?",
                               (_dump(item.get("errors") or []), stamp, item["instance_id"]))
        return counts

    def get_submission(self, instance_id: str) -> Any:
        """One submission by instance id, or None."""
        rows = self._query(f"SELECT {_COLUMNS} FROM submission WHERE instance_id = ?", (instance_id,))
        return _submission(rows[0]) if rows else None

    def submissions(self, state: Any | None = None, limit: int | None = None) -> list:
        """Submissions in collection order, optionally only those in `state`."""
        sql = f"SELECT {_COLUMNS} FROM submission"
        params = []
        if state:
            sql += " WHERE state = ?"
            params.append(state)
        sql += " ORDER BY seq"
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [_submission(r) for r in self._query(sql, params)]

    def instance_ids(self, state: Any | None = None) -> list:
        """Instance ids (optionally in one state), in collection order."""
        if state:
            return [r[0] for r in self._query("SELECT instance_id FROM submission WHERE state = ? ORDER BY seq",
                                              (state,))]
        return [r[0] for r in self._query("SELECT instance_id FROM submission ORDER BY seq")]

    def counts(self) -> Any:
        """Counts by state (queued, sent, rejected) and, for sent ones, by server result."""
        counts = dict.fromkeys(STATES, 0)
        counts.update({f"sent_{result}": 0 for result in SENT_RESULTS})
        for state, result, number in self._query(
                "SELECT state, result, count(*) FROM submission GROUP BY state, result"):
            counts[state] += number
            if state == SENT:
                counts[f"sent_{result}"] += number
        counts["total"] = sum(counts[s] for s in STATES)
        return counts

    def amend(self, instance_id: str, answers: dict[str, Any]) -> Any:
        """Requeue a rejected submission with corrected answers under the same id (the server
        then replaces its quarantined copy); the rejected answers and reasons stay in `history`."""
        original = self.get_submission(instance_id)
        if original is None or original.state != REJECTED:
            raise ValueError(f"{instance_id} is not a rejected submission")
        answers = nfc(dict(answers))
        if answers == original.answers:
            raise ValueError("the answers are unchanged; the server would reject them again")
        history = original.history + [{"answers": original.answers, "errors": original.errors,
                                        "rejected_at": original.sent_at}]
        with self.transaction() as db:
            db.execute("UPDATE submission SET answers = ?, history = ?, state = 'queued', result = NULL, "
                       "errors = NULL, sent_at = NULL WHERE instance_id = ?",
                       (_dump(answers), _dump(history), instance_id))
        return self.get_submission(instance_id)

    def requeue(self, instance_ids: Any) -> None:
        """Put submissions back in the queue (after a reconcile found the server lacks them)."""
        with self.transaction() as db:
            db.executemany("UPDATE submission SET state = 'queued', result = NULL, errors = NULL "
                           "WHERE instance_id = ?", [(i,) for i in instance_ids])


_COLUMNS = ("instance_id, form_id, form_version, village_code, household_key, collected_at, answers, "
            "supersedes, state, result, errors, attempts, last_error, seq, sent_at, history")


def _submission(row):
    """A Submission from a row selected with _COLUMNS."""
    values = list(row)
    values[6] = json.loads(values[6])
    values[10] = json.loads(values[10]) if values[10] else []
    values[15] = json.loads(values[15]) if values[15] else []
    return Submission(*values)


def version_key(version: str) -> Any:
    """Order versions like "2025.1" < "2025.10" < "2026.1" (as sync.form_versions does, without Pony)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in str(version).split("."))


def _dump(value):
    """Compact JSON, the same bytes every time for the same value."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _connect(path):
    """Open the SQLite file owner-only, in WAL mode with full fsync, and create the schema."""
    old_umask = os.umask(0o077)
    try:
        connection = sqlite3.connect(path, timeout=30)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        with connection:
            for statement in _statements():
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    finally:
        os.umask(old_umask)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.chmod(path + suffix, 0o600)
    return connection


def _statements():
    """The schema's statements, one by one (executescript would commit on its own)."""
    return [s.strip() for s in SCHEMA.split(";") if s.strip()]
