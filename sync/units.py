"""The administrative tree: import units from CSV, list them, walk paths.

Levels and depth are data: a unit's `path` is its ancestors' codes ("/64/622/22003/"),
so "is X inside Y" is a prefix test and any number of tiers loads the same way.

Codes are checked at import: 1 to 32 ASCII letters, digits, `-`, `_` or `.`, starting with a
letter or digit (so never `/`, which would break the path). Official codes (province,
district, commune) are the statistics office's; a village's code is made by its commune and
starts with the commune's code (`2372201` or `23722-01` in commune 23722): a village code
that does not is refused.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from pony.orm import db_session, select

from forms.i18n import N_

from .errors import NotFound, UnitImportError
from .store import Entity, Store

COLUMNS = ("code", "name", "level", "parent_code", "expected_households", "kind")
MAX_HOUSEHOLDS = 999_999_999  # nine digits: far above any commune, well inside every integer column
REQUIRED_COLUMNS = ("code", "name", "level", "parent_code")
GIA_LAI_CSV = "gia_lai_2022.csv"
CODE_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]{0,31}\Z")
PREFIXED_LEVEL = "village"  # codes made by communes: they start with their commune's code


@dataclass
class ImportReport:
    """What an import did: codes created and updated."""
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)


@dataclass
class UnitRow:
    """One validated CSV line."""
    line: int
    code: str
    name: str
    level: str
    parent_code: str
    expected_households: int | None
    kind: str


def nfc(text: str) -> str:
    """Unicode NFC with surrounding blanks removed."""
    return unicodedata.normalize("NFC", text or "").strip()


def read_rows(text: str) -> tuple:
    """Parse CSV text into UnitRows, collecting every per-line error before raising."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise UnitImportError(f"the CSV header lacks column(s): {', '.join(missing)}",
                              [{"line": 1, "field": c, "code": "missing_column",
                                "message": f"missing column {c!r}"} for c in missing])
    rows, errors = [], []
    for line, record in enumerate(reader, start=2):
        row, row_errors = _parse_row(line, record)
        errors.extend(row_errors)
        if row:
            rows.append(row)
    return rows, errors


def _parse_row(line, record):
    """Validate one CSV record; returns (UnitRow or None, errors)."""
    values = {c: nfc(record.get(c)) for c in COLUMNS}
    errors = []
    for column in ("code", "name", "level"):
        if not values[column]:
            errors.append(_line_error(line, column, "empty", f"line {line}: {column} is empty"))
    for column in COLUMNS:
        if "\x00" in values[column]:
            errors.append(_line_error(line, column, "invalid_character", f"line {line}: {column} contains a NUL byte"))
    for column in ("code", "parent_code"):
        if values[column] and "\x00" not in values[column] and not CODE_RE.match(values[column]):
            errors.append(_line_error(line, column, "invalid_code",
                                      f"line {line}: {column} must be 1 to 32 letters, digits, '-', '_' or '.' "
                                      "(no '/' or spaces), starting with a letter or digit"))
    expected = None
    if values["expected_households"]:
        text = values["expected_households"]
        expected = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None
        if expected is None:
            errors.append(_line_error(line, "expected_households", "not_a_count",
                                      f"line {line}: expected_households must be a whole number from 0 to "
                                      f"{MAX_HOUSEHOLDS:,}"))
    if errors:
        return None, errors
    return UnitRow(line, values["code"], values["name"], values["level"],
                   values["parent_code"], expected, values["kind"]), []


def _line_error(line, field_name, code, message):
    return {"line": line, "field": field_name, "code": code, "message": message}


def check_rows(db: Store, rows: Any) -> Any:
    """Cross-line checks: duplicate codes, unknown parents, moves of existing units."""
    errors, first_line = [], {}
    for row in rows:
        if row.code in first_line:
            errors.append(_line_error(row.line, "code", "duplicate",
                                      f"line {row.line}: code {row.code} already on line {first_line[row.code]}"))
        else:
            first_line[row.code] = row.line
    for row in rows:
        known_parent = not row.parent_code or row.parent_code in first_line or db.Unit.get(code=row.parent_code)
        if not known_parent:
            errors.append(_line_error(row.line, "parent_code", "unknown_parent",
                                      f"line {row.line}: parent code {row.parent_code} is not a known unit"))
        elif row.level == PREFIXED_LEVEL and row.parent_code and not (
                row.code.startswith(row.parent_code) and row.code != row.parent_code):
            errors.append(_line_error(row.line, "code", "code_not_under_parent",
                                      f"line {row.line}: a village code starts with its commune's code "
                                      f"({row.parent_code}01 or {row.parent_code}-01)"))
        existing = db.Unit.get(code=row.code)
        if existing and (existing.parent.code if existing.parent else "") != row.parent_code:
            errors.append(_line_error(row.line, "parent_code", "move_not_supported",
                                      f"line {row.line}: unit {row.code} exists under another parent; "
                                      "moving units is not supported"))
    return errors


@db_session
def import_units(db: Store, text: str, progress: Any | None = None) -> Any:
    """Add or update units from CSV text, all or nothing; raises UnitImportError listing bad lines."""
    rows, errors = read_rows(text)
    errors += check_rows(db, rows)
    if errors:
        errors.sort(key=lambda e: e["line"])
        raise UnitImportError(f"{len({e['line'] for e in errors})} line(s) have errors; nothing was imported",
                              errors)
    report = ImportReport()
    for row in _parents_first(rows):
        _upsert(db, row, report)
        if progress:
            progress(row)
    return report


def _parents_first(rows):
    """Order rows so a parent in the same file is written before its children."""
    by_code = {row.code: row for row in rows}

    def depth(row, seen=()):
        parent = by_code.get(row.parent_code)
        return 0 if parent is None or parent.code in seen else 1 + depth(parent, seen + (row.code,))
    return sorted(rows, key=depth)


def _upsert(db, row, report):
    """Create or update one unit from a validated row."""
    unit = db.Unit.get(code=row.code)
    if unit is None:
        parent = db.Unit.get(code=row.parent_code) if row.parent_code else None
        path = (parent.path if parent else "/") + row.code + "/"
        db.Unit(code=row.code, name=row.name, level=row.level, kind=row.kind, parent=parent,
                path=path, depth=path.count("/") - 2, expected_households=row.expected_households)
        report.created.append(row.code)
        return
    changes = {"name": row.name, "level": row.level, "kind": row.kind or unit.kind,
               "expected_households": row.expected_households
               if row.expected_households is not None else unit.expected_households}
    if any(getattr(unit, k) != v for k, v in changes.items()):
        unit.set(updated_at=datetime.utcnow(), **changes)
        report.updated.append(row.code)


def gia_lai_csv() -> Any:
    """The packaged 2022 Gia Lai hierarchy (province, 17 districts, 218 communes)."""
    return resources.files("sync").joinpath("data", GIA_LAI_CSV).read_text(encoding="utf-8")


def load_gia_lai(db: Store, progress: Any | None = None) -> Any:
    """Load (or refresh) the real Gia Lai hierarchy."""
    return import_units(db, gia_lai_csv(), progress=progress)


@db_session
def get_unit(db: Store, code: str) -> Any:
    """The unit with `code`, or NotFound."""
    unit = db.Unit.get(code=str(code))
    if unit is None:
        raise NotFound(N_("no unit with code %(code)s"), code=code)
    return unit


@db_session
def list_units(db: Store, under: Any | None = None, level: Any | None = None) -> list:
    """Units inside `under` (a code; the unit itself excluded) and/or at `level`, in code order."""
    query = select(u for u in db.Unit)
    if under is not None:
        prefix = get_unit(db, under).path
        query = query.filter(lambda u: u.path.startswith(prefix) and u.path != prefix)
    if level is not None:
        query = query.filter(lambda u: u.level == level)
    return [unit_dict(u) for u in query.order_by(lambda u: (u.depth, u.code))]


def unit_dict(unit: Entity) -> dict[str, Any]:
    """A unit as plain data (what the API and `units list --format json` show)."""
    return {"code": unit.code, "name": unit.name, "level": unit.level, "kind": unit.kind or None,
            "parent_code": unit.parent.code if unit.parent else None,
            "expected_households": unit.expected_households}


def ancestors(unit: Entity) -> list:
    """The chain from the root down to the unit's parent."""
    chain, parent = [], unit.parent
    while parent is not None:
        chain.append(parent)
        parent = parent.parent
    return list(reversed(chain))
