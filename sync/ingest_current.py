"""Households over time: which accepted submission is current for a household in a round.

The current submission for (village, form, round, household_key) is the latest accepted one
by collected_at, ties going to the later receipt (seq). An edit names the submission it
replaces in `supersedes`; the replaced one is kept for audit with status "superseded" and
never counts again, even when the edit arrives before the original. Every change of a
household's current submission moves the roll-up sums through `tally.Tally.swap`.
"""
from __future__ import annotations

from typing import Any

from . import submission_table as table
from .store import Store
from .submission_table import StoredRow
from .tally import Contribution, Tally


def item_contribution(item: Any) -> Any:
    """What an accepted item would add to its village's sums."""
    return Contribution(item.village_id, item.form_id, item.round, item.indicators, item.refusal)


def count_ahead(items: Any) -> tuple:
    """(Tally, items): every error-free item added as a new household, before the write lock.

    Most items of a batch are exactly that, so summing them here leaves only the few exceptions
    (duplicates, conflicts, edits, revisits) to `settle`, inside the lock. Only whole-number
    values are counted ahead: taking a fraction back out again could leave float residue.
    """
    tally, counted = Tally(), [item for item in items if not item.errors and _whole(item.indicators)]
    for item in counted:
        tally.add(item_contribution(item))
    return tally, counted


def _whole(indicators):
    """Are all of a household's indicator values ints (as they are for counts of people)?"""
    return all(type(num) is int and type(den) is int for num, den in (indicators or {}).values())


def settle(sql: Any, items: Any, may_write_village: Any, ahead: Any | None = None) -> Any:
    """Mark superseded submissions and pick each touched household's current one; returns the Tally.

    With `ahead` (from count_ahead) the Tally starts from it, and each item it counted that did
    not turn out to be a new household is taken back out.
    """
    tally, counted = ahead if ahead is not None else (Tally(), [])
    new_households = _settle(sql, items, may_write_village, tally, {id(item) for item in counted})
    for item in counted:
        if id(item) not in new_households:
            tally.add(item_contribution(item), -1)
    return tally


def _settle(sql, items, may_write_village, tally, counted_ids):
    """The body of settle: moves `tally`; returns the ids of items that are new households."""
    new_households = set()
    accepted = [item for item in items if item.status == "accepted"]
    if not accepted:
        return new_households
    _mark_superseded_on_arrival(sql, accepted)
    targets = _superseded_targets(sql, accepted, may_write_village)
    candidates = [item for item in accepted if item.status == "accepted"]
    keys = {item.key() for item in candidates} | {row.key for row in targets}
    currents = _current_rows(sql, keys)
    target_ids = {row.row_id for row in targets}
    by_key = {}
    for item in candidates:
        by_key.setdefault(item.key(), []).append(item)
    changes = []
    for key in keys:
        old = currents.get(key)
        arrived = by_key.get(key)
        if old is None and arrived is not None and len(arrived) == 1:  # a new household: it counts
            if id(arrived[0]) not in counted_ids:
                tally.add(item_contribution(arrived[0]))
            new_households.add(id(arrived[0]))
            arrived[0].is_current = True
            continue
        base = old  # with no current row the household has no accepted stored submission at all
        if old is not None and old.row_id in target_ids:
            base = _best_remaining(sql, key, target_ids)
        contenders = ([base] if base else []) + (arrived or [])
        winner = max(contenders, key=_order) if contenders else None
        if winner is old:
            continue
        tally.swap(old.contribution if old else None, _contribution(winner) if winner else None)
        if old is not None and old.row_id not in target_ids:
            changes.append((False, old.row_id))
        if isinstance(winner, StoredRow):
            changes.append((True, winner.row_id))
        elif winner is not None:
            winner.is_current = True
    table.mark_superseded(sql, target_ids)
    table.set_current(sql, changes)
    return new_households


def _order(contender):
    """Sort key: collected_at, then receipt order."""
    return contender.order if isinstance(contender, StoredRow) else (contender.collected_at, contender.seq)


def _contribution(contender):
    return contender.contribution if isinstance(contender, StoredRow) else item_contribution(contender)


def _mark_superseded_on_arrival(sql, accepted):
    """An item that an earlier-stored or same-batch edit already replaces is stored as superseded."""
    replaced = {item.supersedes for item in accepted if item.supersedes}
    ids = [item.instance_id for item in accepted]
    replaced |= table.superseded_ids(sql, ids)
    for item in accepted:
        if item.instance_id in replaced:
            item.status = "superseded"


def _superseded_targets(sql, accepted, may_write_village):
    """Stored accepted submissions that items of this batch replace (within the caller's scope)."""
    wanted = {item.supersedes for item in accepted if item.supersedes}
    if not wanted:
        return []
    rows = table.accepted_rows(sql, wanted)
    return [row for row in rows if may_write_village(row.key[0])]


def _current_rows(sql, keys):
    """The stored current submission of each household key, by key (one exact index probe per household)."""
    households = {}
    for key in keys:
        households.setdefault(key[0], set()).add(key[3])
    found = {}
    for village, wanted in households.items():
        for stored in table.current_rows(sql, village, wanted):
            if stored.key in keys:
                found[stored.key] = stored
    return found


def _best_remaining(sql, key, excluded_ids):
    """The latest accepted stored submission of a household, leaving out those being superseded."""
    for stored in table.household_rows(sql, key):
        if stored.row_id not in excluded_ids:
            return stored
    return None


def recompute_all(db: Store) -> None:
    """Recompute every household's current flag from scratch (after rounds are redefined)."""
    from .ingest_sql import Sql
    sql = Sql(db)
    rows = table.all_accepted_rows(sql)
    best = {}
    for row in rows:
        if row.key not in best or row.order > best[row.key].order:
            best[row.key] = row
    table.clear_current(sql)
    table.set_current(sql, [(True, r.row_id) for r in best.values()])
