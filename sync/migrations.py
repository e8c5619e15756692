"""Ordered schema migrations, so a deployed database survives later releases.

Pony creates missing tables but never alters existing ones; each release that changes
a table appends a `Migration` here with the SQL for both databases (a step may also be a
function of the database, for changes SQLite cannot make conditionally in SQL). Every step
must be safe on a fresh database, whose tables Pony has just created from the entities. The
version reached is kept in the `schema_info` table.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pony.orm import db_session

from .store import Store


@dataclass(frozen=True)
class Migration:
    """One schema step: its version, what it does, and the SQL per provider."""
    version: int
    description: str
    sql: dict = field(default_factory=dict)  # provider name ("sqlite", "postgres") -> [statements]


def drop_column(table: str, column: str) -> Callable[[Store], None]:
    """A step dropping `table.column` where it exists (fresh databases never had it)."""
    def step(db):
        if db.provider_name == "sqlite":
            present = any(row[1] == column for row in db.execute(f"PRAGMA table_info({table})").fetchall())
        else:
            present = bool(db.select("SELECT 1 FROM information_schema.columns WHERE table_schema = "
                                     "current_schema() AND table_name = $table AND column_name = $column",
                                     {}, {"table": table, "column": column}))
        if present:
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    step.__name__ = f"drop_column_{table}_{column}"
    return step


MIGRATIONS = (
    Migration(1, "initial schema (tables created from the entity declarations)"),
    Migration(2, "index submissions by received order for incremental pulls", {
        "sqlite": ["CREATE INDEX IF NOT EXISTS idx_submission_received ON submission (received_at)"],
        "postgres": ["CREATE INDEX IF NOT EXISTS idx_submission_received ON submission (received_at)"],
    }),
    Migration(3, "index copy_of and supersedes only where set (most rows have neither; cheaper inserts)", {
        provider: ["DROP INDEX IF EXISTS idx_submission__copy_of",
                   "DROP INDEX IF EXISTS idx_submission__supersedes",
                   "CREATE INDEX IF NOT EXISTS idx_submission_copy_of ON submission (copy_of) "
                   "WHERE copy_of IS NOT NULL",
                   "CREATE INDEX IF NOT EXISTS idx_submission_supersedes ON submission (supersedes) "
                   "WHERE supersedes IS NOT NULL"]
        for provider in ("sqlite", "postgres")}),
    Migration(4, "no account lock-out any more (failed passwords are throttled per address); "
                 "web sessions are revocable tokens (kind 'session')", {
        provider: [drop_column("app_user", "failed_logins"), drop_column("app_user", "locked_until")]
        for provider in ("sqlite", "postgres")}),
)


def latest_version(migrations: Any = MIGRATIONS) -> int:
    """The version a fully upgraded database has."""
    return max(m.version for m in migrations)


@db_session
def current_version(db: Store) -> int:
    """The version recorded in the database, or 0 for one that predates versioning."""
    info = db.SchemaInfo.get(key="schema_version")
    return int(info.value) if info else 0


@db_session
def stamp(db: Store, version: int) -> None:
    """Record that the database is at `version`."""
    info = db.SchemaInfo.get(key="schema_version")
    if info:
        info.value = str(version)
    else:
        db.SchemaInfo(key="schema_version", value=str(version))


def pending(db: Store, migrations: Any = MIGRATIONS) -> list:
    """The migrations not yet applied, oldest first."""
    done = current_version(db)
    return sorted((m for m in migrations if m.version > done), key=lambda m: m.version)


def upgrade(db: Store, migrations: Any = MIGRATIONS, progress: Any | None = None) -> Any:
    """Apply every pending migration in order, each in its own transaction; returns them."""
    applied = []
    for migration in pending(db, migrations):
        with db_session:
            for statement in migration.sql.get(db.provider_name, []):
                if callable(statement):
                    statement(db)
                else:
                    db.execute(statement)
            stamp(db, migration.version)
        applied.append(migration)
        if progress:
            progress(migration)
    return applied
