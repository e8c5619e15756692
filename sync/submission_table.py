"""The submission table's one owner: its columns, its row encoding and decoding, every statement on it.

Pony declares the table (`Submission` in sync/store.py) and its indexes come from
sync/migrations.py; everything that reads or writes its rows in SQL goes through the functions
here (a test fails when another module spells `FROM submission`, `INTO submission`,
`UPDATE submission` or `JOIN submission`). Functions taking `sql` run in the open transaction
of a `sync.ingest_sql.Sql`; those taking `db` read through Pony's `db.select` in the caller's
db_session. Statements use '?' placeholders ('$name' for Pony's); the dialect object
(sync/dialect.py) holds what differs between SQLite and PostgreSQL, and the bulk insert is
built once per dialect.

Encoding happens before the write lock where it can (`encode_fixed`), so inside the lock a row
is one tuple concatenation (`row`).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson

from .dialect import DIALECTS
from .ingest_sql import as_datetime, dumps, loads, select_in
from .store import Entity, Store
from .tally import contribution_from_row

TABLE = "submission"
DECIDED = ("instance_id", "copy_of", "seq", "status", "is_current", "errors", "flags", "raw")  # in the lock
FIXED = ("form_id", "form_version", "village", "village_code", "household_key", "round", "collected_at",
         "collected_on", "received_at", "answers", "indicators", "refusal", "supersedes", "content_hash",
         "collector")  # encoded before the lock
COLUMNS = DECIDED + FIXED
JSON_COLUMNS = ("answers", "indicators", "errors", "flags", "raw")
KEEPS_RAW = ("accepted", "superseded")  # statuses whose answers as sent are not kept in `raw`


# ---- encoding (ingest) ----

def encode_fixed(item: Any, dialect: Any, received_at: Any, collector: Any) -> tuple:
    """The row values the decision cannot change, encoded before the write lock (FIXED order)."""
    return (item.form_id or None, item.form_version or None, item.village_id, item.village_code or None,
            item.household_key or None, item.round, dialect.stamp(item.collected_at),
            dialect.day(item.collected_on), received_at, dumps(item.answers),
            dumps(item.indicators), item.refusal, item.supersedes, item.content_hash, collector)


def row(item: Any) -> Any:
    """The table row of a decided item (COLUMNS order); `item.encoded` is its encode_fixed."""
    kept_raw = None if item.status in KEEPS_RAW else item.raw
    return (item.stored_id, item.copy_of, item.seq, item.status, item.is_current, dumps(item.errors or None),
            dumps(item.flags or None), dumps(kept_raw)) + item.encoded


_INSERT = {dialect: dialect.bulk_insert(TABLE, COLUMNS, JSON_COLUMNS) for dialect in DIALECTS.values()}


def insert_rows(sql: Any, rows: Any) -> None:
    """Insert encoded rows (COLUMNS order) in bulk."""
    sql.insert(_INSERT[sql.dialect], rows)


def insert_statement(dialect: Any, columns: Any = COLUMNS) -> Any:
    """The text of a one-row INSERT of `columns` with the dialect's placeholders (for raw reference inserts)."""
    return dialect.text(f"INSERT INTO {TABLE} ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})")


# ---- ingest: what is held, receipt numbers, moved copies ----

def held_rows(sql: Any, ids: Any) -> list:
    """(instance_id, content_hash, status, errors, id, seq) stored under `ids`, errors decoded."""
    return [(instance_id, digest, status, loads(errors), row_id, seq) for
            instance_id, digest, status, errors, row_id, seq in sql.where_in(
                "SELECT instance_id, content_hash, status, errors, id, seq FROM submission "
                "WHERE instance_id IN ({in})", sorted(ids))]


def next_seq(sql: Any) -> Any:
    """The receipt number the next stored row gets."""
    return (sql.one("SELECT MAX(seq) FROM submission") or 0) + 1


def rename(sql: Any, renames: Any) -> None:
    """Move rows aside: (new instance_id, copy_of, id) tuples."""
    sql.update_many("UPDATE submission SET instance_id = ?, copy_of = ? WHERE id = ?", renames)


# ---- households over time (sync/ingest_current.py) ----

SETTLE_COLUMNS = "id, instance_id, village, form_id, round, household_key, collected_at, seq, indicators, refusal"


class StoredRow:
    """A submission already in the database, as much of it as settling households needs."""
    __slots__ = ("row_id", "instance_id", "key", "order", "contribution")

    def __init__(self, values):
        row_id, instance_id, village, form_id, round_name, household_key, collected_at, seq, indicators, refusal = \
            values
        self.row_id, self.instance_id = row_id, instance_id
        self.key = (village, form_id, round_name, household_key)
        self.order = (as_datetime(collected_at), seq)
        self.contribution = contribution_from_row(village, form_id, round_name, indicators, refusal)


def superseded_ids(sql: Any, ids: Any) -> set:
    """The instance ids that accepted or superseded stored edits name in `supersedes`, among `ids`."""
    return {r[0] for r in sql.where_in(  # status filtered here: it would steer SQLite off the index
        "SELECT supersedes, status FROM submission WHERE supersedes IN ({in})", ids)
        if r[1] in ("accepted", "superseded")}


def accepted_rows(sql: Any, instance_ids: Any) -> list:
    """StoredRows of accepted submissions under `instance_ids`."""
    return [StoredRow(r) for r in sql.where_in(
        f"SELECT {SETTLE_COLUMNS} FROM submission WHERE instance_id IN ({{in}}) AND status = 'accepted'",
        instance_ids)]


def current_rows(sql: Any, village: Entity, household_keys: Any) -> list:
    """StoredRows of the current submissions of a village's households (one exact index probe each)."""
    return [StoredRow(r) for r in sql.where_in(
        f"SELECT {SETTLE_COLUMNS} FROM submission WHERE village = ? AND is_current = ? "
        "AND household_key IN ({in})", sorted(household_keys), extra=(village, True))]


def household_rows(sql: Any, key: Any) -> list:
    """StoredRows of a household's accepted submissions, latest first (collected_at, then seq)."""
    village, form_id, round_name, household_key = key
    return [StoredRow(r) for r in sql.all(
        f"SELECT {SETTLE_COLUMNS} FROM submission WHERE village = ? AND form_id = ? AND round = ? "
        "AND household_key = ? AND status = 'accepted' ORDER BY collected_at DESC, seq DESC",
        (village, form_id, round_name, household_key))]


def all_accepted_rows(sql: Any) -> list:
    """StoredRows of every accepted submission."""
    return [StoredRow(r) for r in sql.all(f"SELECT {SETTLE_COLUMNS} FROM submission WHERE status = 'accepted'")]


def mark_superseded(sql: Any, row_ids: Any) -> None:
    """Rows replaced by an edit: status superseded, no longer current."""
    sql.update_many("UPDATE submission SET status = 'superseded', is_current = ? WHERE id = ?",
                    [(False, row_id) for row_id in row_ids])


def set_current(sql: Any, changes: Any) -> None:
    """(is_current, id) tuples."""
    sql.update_many("UPDATE submission SET is_current = ? WHERE id = ?", changes)


def clear_current(sql: Any) -> None:
    """No submission is current any more (before recomputing them all)."""
    sql.run("UPDATE submission SET is_current = ? WHERE is_current = ?", (False, True))


def current_contribution_rows(sql: Any) -> Any:
    """(village, form_id, round, indicators, refusal) of every current submission (for tally.recompute)."""
    return sql.all("SELECT village, form_id, round, indicators, refusal FROM submission WHERE is_current = ?",
                   (True,))


# ---- quarantine decisions (sync/ingest_quarantine.py) ----

RECORD_COLUMNS = ("id, instance_id, copy_of, status, village, village_code, collector, content_hash, raw, errors, "
                  "flags, seq")


class Record:
    """A stored submission as far as a quarantine decision needs it."""
    __slots__ = ("row_id", "instance_id", "copy_of", "status", "village_id", "village_code", "collector",
                 "content_hash", "raw", "errors", "flags", "seq")

    def __init__(self, values):
        (self.row_id, self.instance_id, self.copy_of, self.status, self.village_id, self.village_code,
         self.collector, self.content_hash, raw, errors, flags, self.seq) = values
        self.raw, self.errors, self.flags = loads(raw) or {}, loads(errors) or [], loads(flags) or []

    def same_as(self, other: Any) -> bool:
        """Unchanged since it was read (no decision or resend came in between)?"""
        return (other is not None and other.instance_id == self.instance_id and other.status == self.status
                and other.seq == self.seq)


def stored_record(sql: Any, instance_id: str) -> Any:
    """The stored record under this exact (possibly derived) instance id, or None."""
    rows = sql.all(f"SELECT {RECORD_COLUMNS} FROM submission WHERE instance_id = ?", (instance_id,))
    return Record(rows[0]) if rows else None


def write_accepted(sql: Any, item: Any, flags: Any, row_id: Any) -> None:
    """Rewrite a quarantined row as the accepted visit `item` (errors cleared)."""
    d, j = sql.dialect, sql.dialect.json_mark
    sql.run("UPDATE submission SET status = ?, is_current = ?, form_id = ?, form_version = ?, village = ?, "
            "village_code = ?, household_key = ?, round = ?, collected_at = ?, collected_on = ?, seq = ?, "
            f"answers = {j}, indicators = {j}, refusal = ?, errors = NULL, flags = {j}, supersedes = ? "
            "WHERE id = ?",
            (item.status, item.is_current, item.form_id, item.form_version, item.village_id, item.village_code,
             item.household_key, item.round, d.stamp(item.collected_at), d.day(item.collected_on), item.seq,
             dumps(item.answers), dumps(item.indicators), item.refusal, dumps(flags), item.supersedes, row_id))


def write_status(sql: Any, row_id: Any, status: Any, errors: Any, flags: Any) -> None:
    """Set a row's status (not current), errors and flags."""
    j = sql.dialect.json_mark
    sql.run(f"UPDATE submission SET status = ?, is_current = ?, errors = {j}, flags = {j} WHERE id = ?",
            (status, False, dumps(errors), dumps(flags), row_id))


def quarantine_page(db: Store, condition: Any, params: dict[str, Any], page: Any, page_size: Any) -> tuple:
    """(total, listed records) of rejected and conflicting rows matching `condition` on the village `u`."""
    where = f"s.status IN ('rejected', 'conflict') AND {condition}"
    join = "FROM submission s LEFT JOIN unit u ON u.id = s.village"
    total = db.select(f"SELECT COUNT(*) {join} WHERE {where}", globals={}, locals=params)[0]
    params = dict(params, limit=page_size, offset=(page - 1) * page_size)
    rows = db.select("SELECT s.instance_id, s.copy_of, s.status, s.village_code, s.household_key, s.form_id, "
                     "s.form_version, s.collected_at, s.received_at, s.collector, s.errors, s.flags, s.raw "
                     f"{join} WHERE {where} ORDER BY s.seq DESC LIMIT $limit OFFSET $offset",
                     globals={}, locals=params)
    return total, [_listed(r) for r in rows]


def _listed(values):
    """One quarantine list entry, with the answers as sent (to correct them)."""
    (instance_id, copy_of, status, village_code, household_key, form_id, form_version, collected_at,
     received_at, collector, errors, flags, raw) = values
    try:
        raw = loads(raw) or {}
    except RecursionError:  # stored before ingest bounded nesting, too deep for the json module
        raw = orjson.loads(raw) if isinstance(raw, (str, bytes)) else {}
    return {"instance_id": instance_id, "copy_of": copy_of, "status": status, "village_code": village_code,
            "household_key": household_key, "form_id": form_id, "form_version": form_version,
            "collected_at": iso(collected_at), "received_at": iso(received_at), "collector": collector,
            "errors": loads(errors) or [], "flags": loads(flags) or [],
            "answers": raw.get("answers") if isinstance(raw, dict) else None}


def iso(value: Any) -> Any:
    """A stored datetime as the API writes it (UTC with "Z"), or None."""
    moment = as_datetime(value)
    return moment.isoformat() + "Z" if moment else None


# ---- receipts (sync/ingest_receipts.py) ----

RECEIPT_COLUMNS = "instance_id, copy_of, status, errors, flags, received_at, village, collector, content_hash"


def receipt_rows(db: Store, ids: Any) -> list:
    """Rows under `ids` and copies of them, errors and flags decoded, received_at as an API string.

    Each: (instance_id, copy_of, status, errors, flags, received_at, village, collector, content_hash).
    """
    rows = select_in(db, f"SELECT {RECEIPT_COLUMNS} FROM submission WHERE instance_id IN ({{in}})", ids)
    rows += select_in(db, f"SELECT {RECEIPT_COLUMNS} FROM submission WHERE copy_of IN ({{in}})", ids)
    return [(instance_id, copy_of, status, loads(errors) or [], loads(flags) or [], iso(received_at), village,
             collector, digest)
            for instance_id, copy_of, status, errors, flags, received_at, village, collector, digest in rows]


# ---- the device manifest (sync/manifest.py); `condition` limits the village `u` ----

HOUSEHOLD_COLUMNS = "s.village_code, s.household_key, s.instance_id, s.form_id, s.collected_at, s.seq"


def latest_seq(db: Store, condition: Any, params: dict[str, Any]) -> Any:
    """The highest receipt number in the villages matching `condition` (0 when none)."""
    seq = db.select(f"SELECT MAX(s.seq) FROM submission s JOIN unit u ON u.id = s.village WHERE {condition}",
                    globals={}, locals=params)
    return (seq[0] if seq else None) or 0


def accepted_households(db: Store, condition: Any, params: dict[str, Any]) -> Any:
    """(village_code, household_key, instance_id, form_id, collected_at, seq) of accepted rows in the villages."""
    return db.select(f"SELECT {HOUSEHOLD_COLUMNS} FROM submission s JOIN unit u ON u.id = s.village "
                     f"WHERE s.status = 'accepted' AND {condition}", globals={}, locals=params)


def changed_since(db: Store, condition: Any, params: dict[str, Any], since_seq: Any) -> Any:
    """(village_code, household_key, supersedes) of accepted or superseded rows stored after `since_seq`."""
    return db.select("SELECT s.village_code, s.household_key, s.supersedes FROM submission s "
                     "JOIN unit u ON u.id = s.village WHERE s.seq > $since "
                     f"AND s.status IN ('accepted', 'superseded') AND {condition}", globals={},
                     locals=dict(params, since=since_seq))


def household_keys_of(db: Store, instance_ids: Any) -> set:
    """{(village_code, household_key)} of the rows under `instance_ids` that have a village code."""
    return {tuple(r) for r in select_in(db, "SELECT village_code, household_key FROM submission "
                                            "WHERE instance_id IN ({in}) AND village_code IS NOT NULL",
                                        instance_ids)}


def accepted_by_household_key(db: Store, household_keys: Any) -> Any:
    """HOUSEHOLD_COLUMNS of accepted rows with these household keys (any village)."""
    return select_in(db, f"SELECT {HOUSEHOLD_COLUMNS} FROM submission s WHERE s.status = 'accepted' "
                         "AND s.household_key IN ({in})", household_keys)


def stored_raw_text(db: Store, row_id: Any, limit: int = 10000) -> Any:
    """The start of a row's stored raw JSON as text (for data too deep to decode)."""
    text = db.select("SELECT CAST(raw AS TEXT) FROM submission WHERE id = $row_id", globals={},
                     locals={"row_id": row_id})
    return (text[0] or "")[:limit] if text else ""


def copies_per_id(db: Store, instance_ids: Any) -> dict:
    """{instance_id: rows stored under it} for the ids that have any (a simulation's no-doubles check)."""
    return dict(select_in(db, "SELECT instance_id, COUNT(*) FROM submission WHERE instance_id IN ({in}) "
                              "GROUP BY instance_id", sorted(instance_ids)))


# ---- forms and rounds ----

def answers_of_form(db: Store, form_id: str) -> Iterator[Any]:
    """The answers (dicts) of every kept submission of a form."""
    for answers in db.select("SELECT answers FROM submission WHERE form_id = $form_id", globals={},
                             locals={"form_id": form_id}):
        if isinstance(answers, str):
            try:
                answers = loads(answers)
            except ValueError:
                answers = None
        yield answers if isinstance(answers, dict) else {}


def dated_rows(db: Store) -> Any:
    """(id, collected_on, round) of every row with a collection date."""
    return db.select("SELECT id, collected_on, round FROM submission WHERE collected_on IS NOT NULL")


def set_round(db: Store, row_id: Any, round_name: str) -> None:
    """Move one row into a round."""
    db.execute("UPDATE submission SET round = $round_name WHERE id = $row_id", globals={},
               locals={"round_name": round_name, "row_id": row_id})


# ---- exports (exports/tabular_source.py) ----

EXPORT_FIELDS = ("instance_id", "form_version", "village_code", "village_name", "household_key", "round",
                 "collected_at", "received_at", "collector", "status", "answers")
_EXPORT = """
    SELECT s.id, s.instance_id, s.form_version, s.village_code, v.name, s.household_key, s."round",
           s.collected_at, s.received_at, s.collector, s.status, s.answers
    FROM submission s JOIN unit v ON s.village = v.id
    WHERE substr(v.path, 1, $n) = $prefix AND s.form_id = $form_id AND s.id > $after {filters}
    ORDER BY s.id LIMIT $limit"""


def export_query(path: Any, form_id: str, round_name: str | None = None, current_only: bool = True,
                 chunk: int = 2000) -> tuple:
    """(sql, params) of one keyset-paginated chunk of a unit's rows; params["after"] is the last id read."""
    params = {"n": len(path), "prefix": path, "form_id": form_id, "limit": chunk, "after": 0}
    filters = ""
    if round_name is not None:
        filters += ' AND s."round" = $round_name'
        params["round_name"] = round_name
    if current_only:
        filters += " AND s.is_current = $current"
        params["current"] = True
    return _EXPORT.format(filters=filters).strip(), params


def export_record(values: Any) -> Any:
    """One export row (id first) as a record dict with its answers decoded."""
    record = dict(zip(EXPORT_FIELDS, values[1:]))
    answers = record["answers"]
    if isinstance(answers, (str, bytes)):
        record["answers"] = json.loads(answers) if answers else {}
    return record
