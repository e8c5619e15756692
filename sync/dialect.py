"""The few ways SQLite and PostgreSQL differ for langso's raw SQL, behind one small object.

Statements are written once with '?' placeholders; `text` gives the driver's form (psycopg2
wants '%s'). Datetimes and dates are bound as Pony stores them (ISO text on SQLite, native on
PostgreSQL); JSON is bound as compact text and cast to jsonb on PostgreSQL (`json_mark`).
Bulk inserts and additive upserts are built once per table and column list (`bulk_insert`,
`bulk_upsert_add`) and run in as few round trips as the driver allows. Ingest is serialised
with `lock_ingest` (an advisory lock on PostgreSQL; on SQLite BEGIN IMMEDIATE already holds
the one write lock). Get the dialect of a Pony Database with `dialect_of(db)`.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from .store import Store

ADVISORY_INGEST_LOCK = 774411


class Dialect:
    """What differs between the databases; one shared instance per database kind."""
    name = None
    postgres = False
    json_mark = "?"  # the placeholder of a JSON column's value
    find_slash = "instr"  # position of the first "/" in a string
    keep_subquery = " LIMIT -1"  # keeps a subquery from being flattened into the outer query

    def __repr__(self):
        return f"<Dialect {self.name}>"

    def text(self, sql: Any) -> Any:
        """A statement written with '?' placeholders, as the driver wants it."""
        return sql

    def stamp(self, value: Any) -> Any:
        """A naive UTC datetime as the column stores it (Pony's text format on SQLite)."""
        return None if value is None else value.isoformat(" ")

    def day(self, value: Any) -> Any:
        """A date as the column stores it."""
        return None if value is None else value.isoformat()

    def lock_ingest(self, cursor: Any) -> None:
        """Serialise ingest so receipt order (seq) is also commit order (SQLite: BEGIN IMMEDIATE did)."""

    def bulk_insert(self, table: Any, columns: Any, json_columns: tuple = ()) -> Any:
        """A BulkInsert of rows of `columns` into `table` (built once, cached)."""
        return _bulk_insert(self, table, tuple(columns), tuple(json_columns))

    def bulk_upsert_add(self, table: Any, keys: Any, counters: Any) -> Any:
        """A BulkInsert adding `counters` into rows keyed by `keys`, creating missing rows (cached)."""
        return _bulk_upsert_add(self, table, tuple(keys), tuple(counters))

    def _bulk(self, head, columns, json_columns, tail=""):
        """`head` is 'INSERT INTO t (cols)'; `tail` follows the VALUES."""
        marks = ",".join("?" * len(columns))
        return BulkInsert(f"{head} VALUES ({marks}){tail}")


class Sqlite(Dialect):
    name = "sqlite"


class Postgres(Dialect):
    name = "postgres"
    postgres = True
    json_mark = "?::jsonb"
    find_slash = "strpos"
    keep_subquery = ""

    def text(self, sql: Any) -> Any:
        return sql.replace("?", "%s")

    def stamp(self, value: Any) -> Any:
        return value

    def day(self, value: Any) -> Any:
        return value

    def lock_ingest(self, cursor: Any) -> None:
        cursor.execute(f"SELECT pg_advisory_xact_lock({ADVISORY_INGEST_LOCK})")

    def _bulk(self, head, columns, json_columns, tail=""):
        template = "(" + ",".join("%s::jsonb" if c in json_columns else "%s" for c in columns) + ")"
        return PagedInsert(f"{head} VALUES %s{tail}", template)


class BulkInsert:
    """One parameterised INSERT run for many rows (executemany)."""
    __slots__ = ("statement",)

    def __init__(self, statement):
        self.statement = statement

    def run(self, cursor: Any, rows: Any) -> None:
        if rows:
            cursor.executemany(self.statement, rows)


class PagedInsert(BulkInsert):
    """psycopg2's execute_values: many rows per statement, 1000 at a time."""
    __slots__ = ("template",)

    def __init__(self, statement, template):
        super().__init__(statement)
        self.template = template

    def run(self, cursor: Any, rows: Any) -> None:
        if rows:
            from psycopg2.extras import execute_values
            execute_values(cursor, self.statement, rows, template=self.template, page_size=1000)


@cache
def _bulk_insert(dialect, table, columns, json_columns):
    return dialect._bulk(f"INSERT INTO {table} ({','.join(columns)})", columns, json_columns)


@cache
def _bulk_upsert_add(dialect, table, keys, counters):
    columns = keys + counters
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    tail = f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}"
    return dialect._bulk(f"INSERT INTO {table} ({','.join(columns)})", columns, (), tail)


SQLITE, POSTGRES = Sqlite(), Postgres()
DIALECTS = {d.name: d for d in (SQLITE, POSTGRES)}


def dialect_named(name: str) -> Any:
    """The dialect of a Pony provider name ("sqlite", "postgres")."""
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(f"unsupported database {name!r}") from None


def dialect_of(db: Store) -> Any:
    """The dialect of a Pony Database."""
    return DIALECTS[db.provider_name]
