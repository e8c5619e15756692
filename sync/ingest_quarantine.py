"""Quarantine decisions: accept a rejected or conflicting record as corrected, or discard it.

Only admins and district staff whose scope holds the record's village decide (collectors
never do; a record kept without a known village is the admins'). Accepting re-validates
the corrected answers with the form version the record was collected with and re-checks
the village against the deciding user's scope (so a record rejected because its village was
outside the collector's scope, or unknown until the village was imported or the record was
given another `village_code`, can be accepted). It then goes through the ingest rules:
the record becomes an accepted visit with a fresh receipt number (seq), the edits that name
it supersede it, and it competes for its household by collected_at like any other visit —
an accepted conflict copy does not replace the original it conflicted with; whichever visit
is later becomes current, the other stays accepted and not current. The roll-up sums move
in the same transaction. The record keeps its instance id and content hash, so the device
resending what it sent is still answered as before; the answers as sent stay in `raw`.

Discarding sets status "discarded": never counted, kept for audit, the reason appended to
its errors (code "discarded"). An identical resend of a discarded record is answered
"rejected" with those errors; a corrected resend replaces it as it would a rejected one.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

from pony.orm import db_session

from forms.i18n import N_

from . import access, submission_table as table
from .errors import Conflict, Invalid, LangsoError, NotFound
from .ingest import validate
from .ingest_context import Context
from .ingest_current import settle
from .ingest_items import MAX_NESTING, Item, check_fields, flattened, item_error, nesting
from .ingest_sql import Sql
from .store import Entity, Store
from .submission_table import stored_record

QUARANTINE = ("rejected", "conflict")
DISCARDED = "discarded"
ACCEPTED_FLAG = "quarantine_accepted"
MAX_REASON = 500


class Forbidden(LangsoError):
    """The caller may see the record but not decide on it (mapped to 403)."""
    code = "forbidden"


def may_read(user: Entity, unit: Entity, collector: Any) -> Any:
    """Staff and admins read records in their scope; a record with no village only admins and its sender."""
    if unit is None:
        return user.role == "admin" or collector == user.username
    return access.may(user, access.READ, unit)


def may_decide(user: Entity, unit: Entity) -> Any:
    """Admins, and district staff who may write the village; never collectors."""
    if user is None or user.role == "collector" or not user.active:
        return False
    return user.role == "admin" if unit is None else access.may(user, access.WRITE, unit)


def _quarantined(db, sql, user, instance_id):
    """The quarantined record the user may decide on; NotFound, Forbidden or Conflict otherwise."""
    record = stored_record(sql, instance_id)
    unit = db.Unit.get(id=record.village_id) if record and record.village_id else None
    if record is None or not may_read(user, unit, record.collector):
        raise NotFound(N_("no submission %(id)r in your scope"), id=instance_id)
    if not may_decide(user, unit):
        raise Forbidden(N_("only admins and district staff in charge of the village decide on quarantined records"))
    if record.status not in QUARANTINE:
        raise Conflict(f"submission {instance_id!r} is {record.status}, not in quarantine",
                       [{"field": "status", "code": "not_quarantined", "message": record.status}])
    return record


def _locked_again(sql, record):
    """Take the ingest lock and make sure the record did not change since it was read."""
    sql.lock_ingest()
    if not record.same_as(stored_record(sql, record.instance_id)):
        raise Conflict(N_("submission %(id)r changed meanwhile; load it again"), id=record.instance_id)


def _corrected_item(context, record, answers, village_code, now):
    """The record as sent with the corrected answers, checked and validated like an arriving item."""
    if not isinstance(answers, dict):
        raise Invalid("the answers must be a JSON object",
                      [item_error("answers", "not_an_object", context.lang)])
    raw = dict(record.raw, answers=answers)
    raw.setdefault("instance_id", record.copy_of or record.instance_id)
    if village_code is not None:
        raw["village_code"] = village_code
    item = Item(0, raw)
    if check_fields(item, context.lang, now):
        validate(item, context)
    if item.errors:
        raise Invalid(N_("the corrected submission is not valid; nothing was changed"), item.errors)
    item.instance_id = item.stored_id = record.instance_id
    item.copy_of, item.content_hash = record.copy_of, record.content_hash
    return item


@db_session
def accept_corrected(db: Store, user: Entity, instance_id: str, answers: dict[str, Any], lang: str = "vi",
                     village_code: str | None = None) -> dict[str, Any]:
    """Accept a quarantined record with corrected answers through the ingest rules; returns its new state."""
    sql = Sql(db)
    record = _quarantined(db, sql, user, instance_id)
    context = Context(db, user, lang)
    item = _corrected_item(context, record, answers, village_code, datetime.utcnow())
    _locked_again(sql, record)
    try:
        flags = _accept(sql, item, record, context)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return {"instance_id": record.instance_id, "copy_of": record.copy_of, "status": item.status,
            "is_current": item.is_current, "errors": [], "flags": flags,
            "previous_status": record.status, "previous_errors": record.errors}


def _accept(sql, item, record, context):
    """Settle the household, rewrite the row as an accepted visit and move the sums; returns its flags."""
    item.status = "accepted"
    item.seq = table.next_seq(sql)
    tally = settle(sql, [item], context.may_write_village)
    flags = list(dict.fromkeys(record.flags + item.flags + [ACCEPTED_FLAG]))
    table.write_accepted(sql, item, flags, record.row_id)
    tally.apply(sql)
    return flags


@db_session
def discard(db: Store, user: Entity, instance_id: str, reason: str = "") -> dict[str, Any]:
    """Mark a quarantined record discarded: never counted, kept for audit with the reason."""
    reason = unicodedata.normalize("NFC", str(reason or "")).strip()[:MAX_REASON]
    sql = Sql(db)
    record = _quarantined(db, sql, user, instance_id)
    _locked_again(sql, record)
    note = {"field": None, "code": DISCARDED, "message": reason or DISCARDED,
            "by": user.username, "at": datetime.utcnow().isoformat() + "Z"}
    flags = list(dict.fromkeys(record.flags + [DISCARDED]))
    try:
        table.write_status(sql, record.row_id, DISCARDED, record.errors + [note], flags)
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return {"instance_id": record.instance_id, "copy_of": record.copy_of, "status": DISCARDED,
            "errors": record.errors + [note], "flags": flags, "previous_status": record.status}


def _scope_condition(user, unit):
    """SQL condition and parameters limiting rows to the unit or the caller's scope."""
    if unit is not None:
        prefixes = [unit.path]
    elif user.role == "admin":
        return "1 = 1", {}
    else:
        prefixes = access.scope_paths(user)
    if not prefixes:
        return "1 = 0", {}
    parts = [f"substr(u.path, 1, {len(p)}) = $p{i}" for i, p in enumerate(prefixes)]
    return "(" + " OR ".join(parts) + ")", {f"p{i}": p for i, p in enumerate(prefixes)}


@db_session
def quarantine_page(db: Store, user: Entity, unit: Entity | None = None, page: int = 1,
                    page_size: int = 50) -> dict[str, Any]:
    """Rejected and conflicting records in `unit` (checked readable by the caller) or the caller's scope."""
    condition, params = _scope_condition(user, unit)
    total, items = table.quarantine_page(db, condition, params, page, page_size)
    for item in items:  # stored before ingest bounded nesting: shown cut, never a 400
        if nesting(item["answers"]) > MAX_NESTING:
            item["answers"] = flattened(item["answers"], MAX_NESTING)
    return {"total": total, "page": page, "page_size": page_size, "items": items}
