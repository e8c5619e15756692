"""What the items of one batch are checked against: forms, villages, rounds, the caller's scope.

Read once per batch with as few queries as possible: one for the form version (its content
hash; the compiled form is cached per hash, so the stored definition is parsed only the first
time a process sees it) and one for all the batch's villages. The scope rule itself stays
`sync.access.may`, given a light view of each unit (its path and whether it has children).
"""
from __future__ import annotations

from typing import Any

from . import access
from .form_versions import compiled_version
from .ingest_sql import chunks
from .rounds import RoundResolver

_COMPILED = {}  # content hash -> compiled form; a published version never changes


class Children:
    """Just enough of a unit's `children` set for access.may: is it empty?"""
    __slots__ = ("empty",)

    def __init__(self, empty):
        self.empty = empty

    def is_empty(self) -> Any:
        return self.empty


class UnitView:
    """A unit as access.may reads it (id, code, path, children), from a bulk query."""
    __slots__ = ("id", "code", "path", "children")

    def __init__(self, unit_id, code, path, has_children):
        self.id, self.code, self.path, self.children = unit_id, code, path, Children(not has_children)


class Context:
    """The forms, villages and rounds a batch is checked against, for one caller."""

    def __init__(self, db, user, lang):
        self.db, self.user, self.lang = db, user, lang
        self.forms, self.villages, self.writable = {}, {}, {}
        self.round_for = RoundResolver.load(db)

    def form(self, form_id: str, version: str) -> Any:
        """(compiled form, None, None) or (None, field, error code) for a form id and version."""
        key = (form_id, version)
        if key not in self.forms:
            self.forms[key] = self._load_form(form_id, version)
        return self.forms[key]

    def _load_form(self, form_id, version):
        rows = self.db.select("SELECT f.archived, v.content_hash, v.id FROM survey_form f LEFT JOIN form_version v "
                              "ON v.form = f.id AND v.version = $version WHERE f.form_id = $form_id",
                              globals={}, locals={"form_id": form_id, "version": version})
        if not rows:
            return None, "form_id", "unknown_form"
        archived, digest, version_id = rows[0]
        if digest is None:
            return None, "form_version", "unknown_form_version"
        if archived:
            return None, "form_id", "form_archived"
        compiled = _COMPILED.get(digest)
        if compiled is None:
            compiled = _COMPILED[digest] = compiled_version(self.db.FormVersion[version_id])
        return compiled, None, None

    def load_villages(self, codes: Any) -> None:
        """Check every village code of the batch against the caller in one query."""
        wanted = sorted({code for code in codes if code and code not in self.villages})
        found = {}
        for part in chunks(wanted):
            marks = ", ".join(f"$c{i}" for i in range(len(part)))
            for unit_id, code, path, children in self.db.select(
                    "SELECT u.id, u.code, u.path, (SELECT COUNT(*) FROM unit c WHERE c.parent = u.id) "
                    f"FROM unit u WHERE u.code IN ({marks})", globals={},
                    locals={f"c{i}": code for i, code in enumerate(part)}):
                found[code] = UnitView(unit_id, code, path, children > 0)
        for code in wanted:
            self.villages[code] = self._check_village(found.get(code))

    def village(self, code: str) -> Any:
        """(unit id or None, error code or None) for a village code and the caller."""
        if code not in self.villages:
            self.load_villages([code])
        return self.villages[code]

    def _check_village(self, unit):
        if unit is None:
            return None, "unknown_village"
        if not access.may(self.user, access.READ, unit):
            return unit.id, "village_out_of_scope"
        if not unit.children.is_empty():
            return unit.id, "not_a_village"
        if not access.may(self.user, access.WRITE, unit):
            return unit.id, "village_out_of_scope"
        self.writable[unit.id] = True
        return unit.id, None

    def may_write_village(self, village_id: Any) -> Any:
        """May the caller change submissions of this village (for edits of stored ones)?"""
        if village_id not in self.writable:
            unit = self.db.Unit.get(id=village_id)
            self.writable[village_id] = bool(unit and unit.children.is_empty()
                                             and access.may(self.user, access.WRITE, unit))
        return self.writable[village_id]
