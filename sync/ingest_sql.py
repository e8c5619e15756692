"""Raw SQL for the ingest hot path: the transaction helper `Sql`, JSON and value decoding.

Pony entities declare the tables; bulk reads and writes go through the DB-API connection
of the current db_session (one transaction), because creating one Pony object per row is
far too slow for thousands of submissions a second.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import orjson

from .dialect import dialect_of
from .store import Store

CHUNK = 400  # values per IN (...) list; well under SQLite's variable limit
# For what orjson cannot write (integers past 64 bits, lone surrogates), made once: json.dumps
# with options builds a new JSONEncoder on every call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def json_bytes(value: Any, sort_keys: bool = False) -> Any:
    """Compact UTF-8 JSON (NaN and infinities, which JSON cannot hold, become null)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except TypeError:  # integers past 64 bits, lone surrogates: the json module writes them
        return json_module_bytes(value, sort_keys)


def json_module_bytes(value: Any, sort_keys: bool = False) -> bytes:
    """Compact JSON as the json module writes it (NaN, Infinity kept as such; surrogates passed through)."""
    return (_CANONICAL if sort_keys else _COMPACT)(value).encode("utf-8", "surrogatepass")


def dumps(value: Any) -> Any:
    """Compact JSON text for a JSON column (None stays NULL)."""
    return None if value is None else json_bytes(value).decode("utf-8")


def chunks(values: Any, size: int = CHUNK) -> list:
    """Split a list into lists of at most `size` items."""
    values = list(values)
    return [values[i:i + size] for i in range(0, len(values), size)]


def loads(value: Any) -> Any:
    """JSON columns come back as text on SQLite and decoded on PostgreSQL."""
    if value is None or value == "":
        return None
    return json.loads(value) if isinstance(value, str) else value


def as_datetime(value: Any) -> Any:
    """Datetime columns come back as text on SQLite."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def as_date(value: Any) -> Any:
    """Date columns come back as text on SQLite."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


class Sql:
    """The open transaction of the current db_session, with its dialect (sync/dialect.py)."""

    def __init__(self, db, connection=None):
        self.db = db
        self.dialect = dialect_of(db)
        # Pony's connection begins the transaction (BEGIN IMMEDIATE on SQLite); a given one is already in one.
        self.connection = connection or db.get_connection()
        self.cursor = self.connection.cursor()

    def text(self, sql: Any) -> Any:
        """Our SQL uses '?' placeholders; the dialect gives the driver's."""
        return self.dialect.text(sql)

    def lock_ingest(self) -> None:
        """Serialise ingest so receipt order (seq) is also commit order, as monotonic cursors need."""
        self.dialect.lock_ingest(self.cursor)

    def all(self, sql: Any, params: Any = ()) -> Any:
        """Rows of a query."""
        self.cursor.execute(self.dialect.text(sql), tuple(params))
        return self.cursor.fetchall()

    def one(self, sql: Any, params: Any = ()) -> Any:
        """The first value of the first row."""
        rows = self.all(sql, params)
        return rows[0][0] if rows else None

    def run(self, sql: Any, params: Any = ()) -> None:
        """Execute one statement."""
        self.cursor.execute(self.dialect.text(sql), tuple(params))

    def where_in(self, sql: Any, values: Any, extra: tuple = ()) -> Any:
        """Run `sql` (containing '{in}') for chunks of `values`; concatenated rows."""
        rows = []
        for part in chunks(values):
            marks = ",".join("?" * len(part))
            rows += self.all(sql.replace("{in}", marks), list(extra) + part)
        return rows

    def insert(self, bulk: Any, rows: Any) -> None:
        """Run a dialect's BulkInsert (Dialect.bulk_insert / bulk_upsert_add) for `rows`."""
        bulk.run(self.cursor, rows)

    def update_many(self, sql: Any, rows: Any) -> None:
        """Run one parameterised UPDATE for many parameter tuples."""
        if rows:
            self.cursor.executemany(self.dialect.text(sql), rows)


def select_in(db: Store, sql: Any, values: Any, params: dict[str, Any] | None = None) -> Any:
    """Read-only rows of `sql` ('{in}' for chunks of `values'; '$name' for `params`) without a write lock."""
    rows = []
    for part in chunks(values):
        names = {f"in_{i}": value for i, value in enumerate(part)}
        names.update(params or {})
        marks = ",".join(f"$in_{i}" for i in range(len(part)))
        rows += db.select(sql.replace("{in}", marks), globals={}, locals=names)
    return rows
