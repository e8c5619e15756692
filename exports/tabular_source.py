"""Submissions of a unit, read in chunks so an export of a million rows keeps memory flat.

Each chunk is one keyset-paginated SQL read (id > last id) in its own short db_session,
so no transaction stays open while a slow client downloads, and Pony caches nothing.
"""
import json

from pony.orm import db_session


CHUNK = 2000
_SQL = """
    SELECT s.id, s.instance_id, s.form_version, s.village_code, v.name, s.household_key, s."round",
           s.collected_at, s.received_at, s.collector, s.status, s.answers
    FROM submission s JOIN unit v ON s.village = v.id
    WHERE substr(v.path, 1, $n) = $prefix AND s.form_id = $form_id AND s.id > $after {filters}
    ORDER BY s.id LIMIT $limit"""
FIELDS = ("instance_id", "form_version", "village_code", "village_name", "household_key", "round",
          "collected_at", "received_at", "collector", "status", "answers")


@db_session
def form_definitions(db, form_id):
    """The definitions of every published version of the form, latest first."""
    versions = db.FormVersion.select(lambda v: v.form.form_id == form_id).order_by(lambda v: -v.seq)
    return [v.definition for v in versions]


@db_session
def unit_path(db, unit_code):
    """The materialised path of a unit (NotFound when unknown)."""
    from sync.units import get_unit
    return get_unit(db, unit_code).path


def submissions(db, path, form_id, round_name=None, current_only=True, chunk=CHUNK):
    """Yield submission records (dicts) under the unit with `path`, in id order, chunk by chunk."""
    params = {"n": len(path), "prefix": path, "form_id": form_id, "limit": chunk, "after": 0}
    filters = ""
    if round_name is not None:
        filters += ' AND s."round" = $round_name'
        params["round_name"] = round_name
    if current_only:
        filters += " AND s.is_current = $current"
        params["current"] = True
    sql = _SQL.format(filters=filters).strip()
    while True:
        with db_session:
            rows = db.select(sql, params)
        for row in rows:
            yield record(row)
        if len(rows) < chunk:
            return
        params["after"] = rows[-1][0]


def record(row):
    """One SQL row as a submission record with its answers decoded."""
    values = dict(zip(FIELDS, row[1:]))
    answers = values["answers"]
    if isinstance(answers, (str, bytes)):
        values["answers"] = json.loads(answers) if answers else {}
    return values
