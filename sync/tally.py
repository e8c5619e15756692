"""Roll-up inputs: per-village sums kept in step with each household's current submission.

RollupSum holds, per village, form, round and indicator, the sums of numerators and
denominators and the number of households counted; HouseholdCount holds, per village, form
and round, the households counted (answered) and the refusals. A refusal (consent = no)
counts only as a refusal, never as zeros in an indicator.

Ingest changes a household's current submission inside its own transaction and calls
`Tally.swap(old, new)`; `apply` then writes all the changes as a few bulk upserts. `rebuild`
recomputes everything from the stored current submissions and `check` lists where the
maintained sums differ from such a recomputation (an empty list means they agree).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from pony.orm import db_session

from .ingest_sql import Sql, loads
from .store import Store

TOLERANCE = 1e-6  # sums of counts are whole numbers; allow float rounding only
SUM_KEYS, SUM_COUNTERS = ("village", "form_id", "round", "indicator"), ("numerator", "denominator", "households")
COUNT_KEYS, COUNT_COUNTERS = ("village", "form_id", "round"), ("households", "refusals")


class Contribution:
    """What one current submission adds to its village's sums."""
    __slots__ = ("village_id", "form_id", "round", "indicators", "refusal")

    def __init__(self, village_id, form_id, round_name, indicators, refusal):
        self.village_id, self.form_id, self.round = village_id, form_id, round_name
        self.indicators, self.refusal = indicators or {}, bool(refusal)


class Tally:
    """Pending additions to the sums, aggregated per key so each key is written once."""

    def __init__(self):
        self.indicators = {}  # (village, form, round) -> {indicator: [num, den, households]}
        self.counts = defaultdict(lambda: [0, 0])  # (village, form, round) -> [households, refusals]

    @property
    def sums(self) -> dict:
        """(village, form, round, indicator) -> [numerator, denominator, households]."""
        return {key + (name,): entry for key, per in self.indicators.items() for name, entry in per.items()}

    def add(self, contribution: Any, sign: int = 1) -> None:
        """Add (sign=1) or take away (sign=-1) one household's contribution."""
        c = contribution
        key = (c.village_id, c.form_id, c.round)
        if c.refusal:
            self.counts[key][1] += sign
            return
        self.counts[key][0] += sign
        per = self.indicators.get(key)
        if per is None:
            per = self.indicators[key] = {}
        for indicator, value in c.indicators.items():
            if value is None:
                continue
            entry = per.get(indicator)
            if entry is None:
                per[indicator] = [sign * value[0], sign * value[1], sign]
            else:
                entry[0] += sign * value[0]
                entry[1] += sign * value[1]
                entry[2] += sign

    def swap(self, old: Any, new: Any) -> None:
        """A household's current submission changed from `old` to `new` (either may be None)."""
        if old is not None:
            self.add(old, -1)
        if new is not None:
            self.add(new, 1)

    def apply(self, sql: Any) -> None:
        """Write the pending changes with bulk upserts inside the open transaction."""
        dialect = sql.dialect
        sql.insert(dialect.bulk_upsert_add("rollup_sum", SUM_KEYS, SUM_COUNTERS),
                   [k + tuple(v) for k, v in self.sums.items() if any(v)])
        sql.insert(dialect.bulk_upsert_add("household_count", COUNT_KEYS, COUNT_COUNTERS),
                   [k + tuple(v) for k, v in self.counts.items() if any(v)])


def contribution_from_row(village_id: Any, form_id: str, round_name: str, indicators: Any,
                          refusal: Any) -> Contribution:
    """A Contribution from a stored submission row."""
    return Contribution(village_id, form_id, round_name, loads(indicators), refusal)


def recompute(sql: Any) -> Any:
    """The sums as a from-scratch pass over the current submissions would give them."""
    fresh = Tally()
    from .submission_table import current_contribution_rows  # it imports this module
    for row in current_contribution_rows(sql):
        fresh.add(contribution_from_row(*row))
    return fresh


@db_session
def rebuild(db: Store) -> None:
    """Recompute every RollupSum and HouseholdCount from the stored current submissions."""
    sql = Sql(db)
    fresh = recompute(sql)
    sql.run("DELETE FROM rollup_sum")
    sql.run("DELETE FROM household_count")
    fresh.apply(sql)


def _stored(sql):
    """The maintained sums as (sums, counts) dicts."""
    sums = {tuple(r[:4]): [r[4], r[5], r[6]] for r in sql.all(
        "SELECT village, form_id, round, indicator, numerator, denominator, households FROM rollup_sum")}
    counts = {tuple(r[:3]): [r[3], r[4]] for r in sql.all(
        "SELECT village, form_id, round, households, refusals FROM household_count")}
    return sums, counts


def _differences(table, expected, actual, names):
    """Mismatch dicts for keys whose values differ (a missing row counts as zeros)."""
    found = []
    for key in sorted(set(expected) | set(actual), key=repr):
        want = expected.get(key) or [0] * len(names)
        have = actual.get(key) or [0] * len(names)
        if any(abs(float(w) - float(h)) > TOLERANCE for w, h in zip(want, have)):
            found.append({"table": table, "key": list(key),
                          "expected": dict(zip(names, want)), "actual": dict(zip(names, have))})
    return found


@db_session
def check(db: Store) -> Any:
    """Mismatches between the maintained sums and a from-scratch recomputation ([] when equal)."""
    sql = Sql(db)
    fresh = recompute(sql)
    sums, counts = _stored(sql)
    return (_differences("rollup_sum", dict(fresh.sums), sums, ("numerator", "denominator", "households"))
            + _differences("household_count", dict(fresh.counts), counts, ("households", "refusals")))
