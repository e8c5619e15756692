"""Shared builders and queries for the ingest, tally, manifest, quarantine and sync HTTP tests.

Villages are imported with sync.units.import_units under commune 23722 (Thị trấn Phú Hòa,
Chư Păh), where collector_phuhoa works; one village under Pleiku (23572) is out of its scope.
The `villages` fixture that imports them lives in tests/conftest.py.
"""
import uuid

from pony.orm import db_session

from sync.ingest import ingest_batch

VILLAGES_CSV = """code,name,level,parent_code,expected_households
2372201,Làng Ia Ly,village,23722,120
2372202,Thôn Đăk Pơ Kao,village,23722,80
2372203,Tổ dân phố 3,village,23722,
2357201,Tổ dân phố 1 Hoa Lư,village,23572,
"""
FORM, VERSION = "household_digital", "2025.1"
VILLAGE, OTHER_VILLAGE, PLEIKU_VILLAGE = "2372201", "2372202", "2357201"


def household(**changes):
    """A valid household's answers (4 members, fibre, some digital use), with changes."""
    answers = {"consent": "yes", "household_number": "12", "head_name": "Rơ Mah Hyao",
               "fibre_available": "yes", "fibre_subscribed": "yes", "members": 4, "members_15plus": 3,
               "adults": 2, "working_age": 3, "adults_smartphone": 1, "members_15plus_bank": 2,
               "adults_digital_signature": 0, "working_age_digital_skills": 1, "members_online": 2,
               "members_online_protected": 1, "adults_online_public_services": 1, "adults_telehealth": 0,
               "members_ehr": 4}
    answers.update(changes)
    return answers


def submission(household_key="hh-1", village=VILLAGE, collected_at="2025-03-01T09:30:00+07:00", answers=None,
               **fields):
    """One wire-format submission with a fresh instance_id unless given."""
    item = {"instance_id": fields.pop("instance_id", str(uuid.uuid4())), "form_id": FORM, "form_version": VERSION,
            "village_code": village, "household_key": household_key, "collected_at": collected_at,
            "answers": answers if answers is not None else household()}
    item.update(fields)
    return item


def ingest(store, items, username="collector_phuhoa", lang="en"):
    """Ingest a batch as a user; the statuses in order."""
    with db_session:
        return ingest_batch(store, store.User.get(username=username), items, lang=lang)


def statuses(results):
    return [r["status"] for r in results]


@db_session
def rows(store, sql="SELECT instance_id, status, is_current FROM submission ORDER BY seq"):
    """Raw rows of the submission table."""
    return [tuple(r) if isinstance(r, tuple) else (r,) for r in store.select(sql)]


@db_session
def sums(store, indicator="smartphone_adults"):
    """(numerator, denominator, households) per village code for one indicator."""
    found = store.select("SELECT u.code, r.numerator, r.denominator, r.households FROM rollup_sum r "
                         "JOIN unit u ON u.id = r.village WHERE r.indicator = $indicator")
    return {code: (num, den, hh) for code, num, den, hh in found if (num, den, hh) != (0, 0, 0)}


@db_session
def counts(store):
    """(households, refusals) per village code."""
    found = store.select("SELECT u.code, c.households, c.refusals FROM household_count c "
                         "JOIN unit u ON u.id = c.village")
    return {code: (hh, refusals) for code, hh, refusals in found if (hh, refusals) != (0, 0)}
