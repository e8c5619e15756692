"""Receipts: what the server holds for a device's instance ids, so a device can reconcile.

A device that lost its own state asks for its ids and learns, per id, the status of the
primary copy (accepted, superseded, conflict, rejected, or unknown), its errors, flags and
received time, plus any further copies kept under derived ids (conflicts, replaced rejects).
Ids in villages the caller may not read, or sent by someone else with no village, are "unknown".
"""
from __future__ import annotations

from typing import Any

from pony.orm import db_session

from . import access, submission_table as table
from .store import Entity, Store, sync_to_disk


def _visible(db, user, cache):
    """A test 'may the caller read this row' with one unit lookup per village."""
    def check(village_id, collector):
        if village_id is None:
            return user.role == "admin" or collector == user.username
        if village_id not in cache:
            unit = db.Unit.get(id=village_id)
            cache[village_id] = bool(unit) and access.may(user, access.READ, unit)
        return cache[village_id]
    return check


@db_session
def receipts(db: Store, user: Entity, ids: Any) -> Any:
    """One receipt per requested id, in the order asked."""
    rows = table.receipt_rows(db, ids)
    sync_to_disk(db)  # a batch is visible once committed, before its fsync: never report one the disk may lose
    visible = _visible(db, user, {})
    primary, copies = {}, {}
    for instance_id, copy_of, status, errors, flags, received_at, village, collector, digest in rows:
        if not visible(village, collector):
            continue
        if copy_of:
            copies.setdefault(copy_of, []).append({"status": status, "content_hash": digest,
                                                   "received_at": received_at})
        else:
            primary[instance_id] = {"status": status, "errors": errors, "flags": flags, "received_at": received_at}
    answer = []
    for instance_id in ids:
        found = primary.get(instance_id) or {"status": "unknown", "errors": [], "flags": [], "received_at": None}
        answer.append(dict(found, instance_id=instance_id, copies=copies.get(instance_id, [])))
    return answer
