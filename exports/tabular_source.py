"""Submissions of a unit, read in chunks so an export of a million rows keeps memory flat.

Each chunk is one keyset-paginated SQL read (id > last id) in its own short db_session,
so no transaction stays open while a slow client downloads, and Pony caches nothing.
"""
from pony.orm import db_session

from sync import submission_table

CHUNK = 2000
FIELDS = submission_table.EXPORT_FIELDS


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
    sql, params = submission_table.export_query(path, form_id, round_name, current_only, chunk)
    while True:
        with db_session:
            rows = db.select(sql, params)
        for row in rows:
            yield record(row)
        if len(rows) < chunk:
            return
        params["after"] = rows[-1][0]


record = submission_table.export_record  # one SQL row as a submission record with its answers decoded
