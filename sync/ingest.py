"""Batch ingest: every household submission arrives exactly once, however often it is resent.

Per item the answer is `accepted`, `duplicate` (same instance_id and content: nothing
changes), `conflict` (same instance_id, other content: the second copy is kept under a
derived id, flagged for an admin) or `rejected` (kept in quarantine with its errors; the
identical item resent is answered `rejected` again without a second copy, a corrected one
replaces it). Validation happens before the write lock; then, in one transaction, the batch
is decided against what is stored, inserted in bulk, households' current submissions are
settled and the roll-up sums moved (sync/tally.py). If anything fails before the commit,
nothing of the batch is stored and the device simply sends it again. On a SQLite file the batch
is stored on the writer's own connection and reaches the disk after the write lock is released,
before any result is returned (sync.store.SqliteWriter); should the disk fail then, ingest stops
with StorageFailed (HTTP 503) and devices keep their records. Admins and district staff decide on
quarantined records (accept as corrected, or discard: status "discarded") through
`accept_corrected` and `discard` (sync/ingest_quarantine.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pony.orm import db_session

from . import submission_table as table
from .dialect import dialect_of
from .ingest_context import Context
from .ingest_current import count_ahead, settle
from .ingest_items import Item, check_fields, item_error
from .ingest_sql import Sql
from .store import Entity, Store, sqlite_writer

SET_ASIDE = ("rejected", "discarded")  # resent as is: rejected again; corrected: replaces the stored copy


def validate(item: Any, context: Any) -> None:
    """Check one item against its form, village and scope; fills its clean answers and indicators."""
    lang, compiled = context.lang, None
    if item.form_id and item.form_version:
        compiled, field, code = context.form(item.form_id, item.form_version)
        if code:
            item.errors.append(item_error(field, code, lang))
    if item.village_code:
        item.village_id, code = context.village(item.village_code)
        if code:
            item.errors.append(item_error("village_code", code, lang))
    if item.collected_on is not None:
        item.round = context.round_for(item.collected_on)
    if item.errors:
        return
    result = compiled.validate(item.raw["answers"], lang=lang)
    if not result.ok:
        item.errors = [dict(e, field=_answer_path(e.get("field"))) for e in result.errors]
        return
    item.answers = result.answers
    item.refusal = bool(compiled.is_refusal(result.answers))
    item.indicators = {} if item.refusal else compiled.indicator_values(result.answers, result.view)


def _answer_path(field):
    """Answer errors are reported under answers.<question path>."""
    return f"answers.{field}" if field else "answers"


class Held:
    """What the server holds under one instance_id while the batch is decided."""
    __slots__ = ("content_hash", "status", "errors", "item", "row_id", "seq")

    def __init__(self, content_hash, status, errors=None, item=None, row_id=None, seq=None):
        self.content_hash, self.status, self.errors = content_hash, status, errors or []
        self.item, self.row_id, self.seq = item, row_id, seq


def _held(sql, items):
    """Stored submissions under the batch's instance ids, and conflict copies of those already held."""
    held = _held_rows(sql, {item.instance_id for item in items})
    copies = {conflict_id(item) for item in items if item.instance_id in held}  # usually none
    held.update(_held_rows(sql, copies))
    return held


def _held_rows(sql, ids):
    held = {}
    for instance_id, digest, status, errors, row_id, seq in table.held_rows(sql, ids):
        held[instance_id] = Held(digest, status, errors, row_id=row_id, seq=seq)
    return held


def conflict_id(item: Any) -> str:
    """The derived id a conflicting copy is kept under (the same content always gets the same id)."""
    return f"{item.instance_id}~conflict~{item.content_hash[:16]}"


class Decider:
    """Decides each item against what is held, in batch order, and numbers what will be stored."""

    def __init__(self, sql, held, next_seq):
        self.sql, self.held, self.next_seq = sql, held, next_seq
        self.stored, self.renames = [], []

    def decide(self, item: Any) -> Any:
        """Set the item's answer status; queue it for storing when it must be kept."""
        held = self.held.get(item.instance_id)
        if held is None:
            return self._keep(item)
        if held.content_hash == item.content_hash:
            if held.status in SET_ASIDE:
                item.status, item.errors = "rejected", held.errors
            else:
                item.status = "duplicate"
            return
        if held.status in SET_ASIDE:
            self._move_aside(item.instance_id, held)
            return self._keep(item)
        self._conflict(item)

    def _keep(self, item):
        item.status = item.status or ("rejected" if item.errors else "accepted")
        item.seq, self.next_seq = self.next_seq, self.next_seq + 1
        self.stored.append(item)
        self.held[item.stored_id] = Held(item.content_hash, item.status, item.errors, item=item, seq=item.seq)

    def _move_aside(self, instance_id, held):
        """A corrected resend replaces a rejected one; the rejected copy stays under a derived id."""
        derived = f"{instance_id}~rejected~{held.seq}"
        if held.item is not None:
            held.item.stored_id, held.item.copy_of = derived, instance_id
        else:
            self.renames.append((derived, instance_id, held.row_id))

    def _conflict(self, item):
        """Same id, other content: keep the second copy once, flagged for an admin."""
        derived = conflict_id(item)
        item.status = "conflict"
        if "conflict" not in item.flags:
            item.flags.append("conflict")
        if derived in self.held:
            return
        item.stored_id, item.copy_of = derived, item.instance_id
        item.seq, self.next_seq = self.next_seq, self.next_seq + 1
        self.stored.append(item)
        self.held[derived] = Held(item.content_hash, "conflict", item=item, seq=item.seq)


@db_session
def ingest_batch(db: Store, user: Entity, raw_items: Any, lang: str = "vi", now: datetime | None = None) -> list:
    """Ingest a decoded batch for `user` in one transaction; returns one wire result per item."""
    now = now or datetime.utcnow()
    items = [Item(index, raw) for index, raw in enumerate(raw_items)]
    context = Context(db, user, lang)
    dialect = dialect_of(db)
    received_at, collector = dialect.stamp(now), user.username
    fine = [check_fields(item, lang, now) for item in items]
    context.load_villages(item.village_code for item in items)
    for item, checked in zip(items, fine):
        if checked:
            validate(item, context)
        item.encoded = table.encode_fixed(item, dialect, received_at, collector)
    ahead = count_ahead(items)
    writer = sqlite_writer(db)
    if writer is None:
        _store_in_session(db, items, context, ahead)
    else:
        with writer.transaction() as connection:
            _store(Sql(db, connection), items, context, ahead)
        writer.flush_to_disk(len(items))  # outside the lock: the next batch is stored meanwhile
    return [item.result() for item in items]


def _store_in_session(db, items, context, ahead):
    """Store the batch in the db_session's own transaction (PostgreSQL, or a session that already writes)."""
    try:
        _store(Sql(db), items, context, ahead)
        db.commit()
    except BaseException:
        db.rollback()
        raise


def _store(sql, items, context, ahead):
    """Decide, insert and settle the batch inside the write lock."""
    sql.lock_ingest()
    decider = Decider(sql, _held(sql, items), table.next_seq(sql))
    for item in items:
        decider.decide(item)
    table.rename(sql, decider.renames)
    tally = settle(sql, decider.stored, context.may_write_village, ahead)
    table.insert_rows(sql, [table.row(item) for item in decider.stored])
    tally.apply(sql)


def accept_corrected(db: Store, user: Entity, instance_id: str, answers: dict[str, Any], lang: str = "vi",
                     village_code: str | None = None) -> Any:
    """Accept a quarantined record with corrected answers (see sync/ingest_quarantine.py)."""
    from .ingest_quarantine import accept_corrected as accept
    return accept(db, user, instance_id, answers, lang=lang, village_code=village_code)


def discard(db: Store, user: Entity, instance_id: str, reason: str = "") -> Any:
    """Discard a quarantined record, kept for audit (see sync/ingest_quarantine.py)."""
    from .ingest_quarantine import discard as drop
    return drop(db, user, instance_id, reason=reason)
