"""Survey rounds: the admin-defined period containing a visit's date, else its calendar year.

A visit's date is the date of `collected_at` in the offset the device recorded it with (a
household visited at 23:30 on 31 December, Vietnam time, belongs to that year's round).
Defining a round moves the submissions whose dates it covers into it and refreshes the
roll-up inputs, so the sums always follow the rounds as defined.
"""
from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any, Self

from pony.orm import db_session

from forms.i18n import N_

from . import submission_table
from .errors import Conflict, Invalid
from .store import Store


def visit_date(collected_at: Any) -> Any:
    """The calendar date of a visit, in the offset it was recorded with."""
    return collected_at.date() if isinstance(collected_at, datetime) else collected_at


class RoundResolver:
    """Resolves dates to round names from one read of the (small) survey_round table."""

    def __init__(self, rounds):
        self.rounds = sorted(rounds, key=lambda r: r[1])  # (name, starts_on, ends_on)

    @classmethod
    def load(cls, db: Store) -> Self:
        """Read every defined round once (call inside a db_session)."""
        return cls([(r.name, r.starts_on, r.ends_on) for r in db.SurveyRound.select()])

    def __call__(self, collected_at):
        """The round name for a visit date or datetime: a defined round, else the year ("2025")."""
        day = visit_date(collected_at)
        for name, starts_on, ends_on in self.rounds:
            if starts_on <= day <= ends_on:
                return name
        return str(day.year)


@db_session
def round_for(db: Store, collected_at: Any) -> Any:
    """The round a visit at `collected_at` (datetime or date) belongs to."""
    return RoundResolver.load(db)(collected_at)


def _as_date(value, field):
    """Accept a date or an ISO 'YYYY-MM-DD' string."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(f"{field} must be a date YYYY-MM-DD",
                      [{"field": field, "code": "invalid_date", "message": f"{value!r} is not a date"}]) from None


@db_session
def define_round(db: Store, name: str, starts_on: Any, ends_on: Any) -> Any:
    """Define a round (no overlap with others); moves the visits in its dates into it and re-tallies."""
    name = unicodedata.normalize("NFC", str(name or "")).strip()
    starts_on, ends_on = _as_date(starts_on, "starts_on"), _as_date(ends_on, "ends_on")
    if not name:
        raise Invalid(N_("a round needs a name"), [{"field": "name", "code": "empty", "message": "name is empty"}])
    if ends_on < starts_on:
        raise Invalid(N_("a round must end on or after its start"),
                      [{"field": "ends_on", "code": "before_start", "message": "ends_on is before starts_on"}])
    if db.SurveyRound.exists(name=name):
        raise Conflict(N_("a round named %(name)r exists already"), name=name)
    for other in db.SurveyRound.select():
        if other.starts_on <= ends_on and starts_on <= other.ends_on:
            raise Conflict(f"the dates overlap round {other.name!r} ({other.starts_on} to {other.ends_on})",
                           [{"field": "starts_on", "code": "overlap", "message": f"overlaps {other.name}"}])
    created = db.SurveyRound(name=name, starts_on=starts_on, ends_on=ends_on)
    db.flush()
    reassign_rounds(db)
    return created


@db_session
def reassign_rounds(db: Store) -> None:
    """Put every kept submission in the round its date falls in, then recompute currents and sums."""
    from . import ingest_current, tally
    resolver = RoundResolver.load(db)
    for row_id, collected_on, old in submission_table.dated_rows(db):
        day = _as_date(collected_on, "collected_on")
        new = resolver(day)
        if new != old:
            submission_table.set_round(db, row_id, new)
    ingest_current.recompute_all(db)
    tally.rebuild(db)
