"""Forms in the database: one draft, immutable published versions, archiving, compiled lookups.

A published version never changes (its content hash is recorded), so a submission is always
validated against exactly the version it was collected with.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pony.orm import db_session

import forms
from forms.errors import DefinitionError
from forms.i18n import N_

from . import submission_table
from .errors import Conflict, Invalid, NotFound
from .store import Store


class BreakingChange(Conflict):
    """Publishing would break data already collected; the admin must confirm."""
    code = "breaking_change"


@db_session
def get_form(db: Store, form_id: str) -> Any:
    """The Form with `form_id`, or NotFound."""
    form = db.Form.get(form_id=form_id)
    if form is None:
        raise NotFound(N_("no form %(form)r"), form=form_id)
    return form


def check_definition(doc: dict[str, Any]) -> Any:
    """Load a definition, turning its mistakes into one Invalid listing every error with its path."""
    try:
        return forms.load_form(doc)
    except DefinitionError as error:
        mistakes = [{"field": e["field"], "code": e["code"], "message": e["message"]} for e in error.errors]
        raise Invalid(N_("the form has %(count)s mistake(s)"), count=len(error.errors), errors=mistakes) from error


@db_session
def create_form(db: Store, doc: dict[str, Any]) -> Any:
    """Create a form whose draft is `doc` (validated); the form id comes from the document."""
    check_definition(doc)
    if db.Form.exists(form_id=doc["id"]):
        raise Conflict(N_("form %(form)r exists already; replace its draft instead"), form=doc["id"])
    return db.Form(form_id=doc["id"], title=doc.get("title") or {}, draft=doc,
                   draft_updated_at=datetime.utcnow())


@db_session
def save_draft(db: Store, form_id: str, doc: dict[str, Any]) -> Any:
    """Replace the draft (saved even when invalid, so work is never lost); returns its errors."""
    form = get_form(db, form_id)
    if doc.get("id") != form_id:
        raise Invalid(N_("the draft's id must be the form's id"),
                      [{"field": "id", "code": "id_mismatch", "message": f"expected {form_id!r}"}])
    form.draft, form.draft_updated_at = doc, datetime.utcnow()
    try:
        check_definition(doc)
    except Invalid as error:
        return error.errors
    return []


@db_session
def publish(db: Store, form_id: str, published_by: Any, confirm_breaking: bool = False,
            used_values: Any | None = None) -> Any:
    """Publish the draft as a new version; refuses duplicates, non-increasing versions, unconfirmed breaks."""
    form = get_form(db, form_id)
    if not form.draft:
        raise Invalid(N_("form %(form)r has no draft to publish"), form=form_id)
    if form.archived:
        raise Conflict(N_("form %(form)r is archived"), form=form_id)
    check_definition(form.draft)
    digest = forms.content_hash(form.draft)
    latest = latest_version(db, form_id)
    if form.versions.select(lambda v: v.content_hash == digest).exists():
        raise Conflict(N_("this content is already published; change the draft first"))
    if latest is not None:
        _check_version_increases(latest.version, str(form.draft.get("version", "")))
        breaks = forms.breaking_changes(latest.definition, form.draft, used_values=used_values)
        if breaks and not confirm_breaking:
            raise BreakingChange(N_("%(count)s breaking change(s); publish again with confirmation"),
                                 count=len(breaks),
                                 errors=[{"field": b["field"], "code": b["code"], "message": b["message"]}
                                         for b in breaks])
    return db.FormVersion(form=form, version=str(form.draft["version"]), content_hash=digest,
                          definition=form.draft, published_by=published_by,
                          seq=(latest.seq + 1) if latest else 1)


def version_key(version: str) -> Any:
    """Order versions like "2025.1" < "2025.10" < "2026.1" (numeric parts compared as numbers)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in version.split("."))


def _check_version_increases(previous, new):
    if version_key(new) <= version_key(previous):
        raise Invalid(N_("version %(new)r must be greater than the published %(previous)r"), new=new,
                      previous=previous, errors=
                      [{"field": "version", "code": "version_not_increasing",
                        "message": f"use a version greater than {previous}"}])


@db_session
def latest_version(db: Store, form_id: str) -> Any:
    """The most recently published version of a form, or None."""
    return db.FormVersion.select(lambda v: v.form.form_id == form_id).order_by(lambda v: -v.seq).first()


@db_session
def get_version(db: Store, form_id: str, version: str) -> Any:
    """One published version, or NotFound."""
    found = db.FormVersion.get(form=get_form(db, form_id), version=version)
    if found is None:
        raise NotFound(N_("form %(form)r has no published version %(version)r"), form=form_id, version=version)
    return found


@db_session
def used_choice_values(db: Store, form_id: str) -> Any:
    """Values each question holds in kept submissions of the form (scanned only at publish time)."""
    used = {}
    for answers in submission_table.answers_of_form(db, form_id):
        for name, value in answers.items():
            values = value if isinstance(value, list) else [value]
            used.setdefault(name, set()).update(str(v) for v in values if v not in (None, ""))
    return used


@db_session
def archive(db: Store, form_id: str) -> Any:
    """Close a form to new submissions; its data stays and is still reported."""
    form = get_form(db, form_id)
    form.archived = True
    return form


_COMPILED = {}  # content hash -> CompiledForm; published versions never change


def compiled_version(version: str) -> Any:
    """The compiled form of a FormVersion, compiled once per content hash."""
    compiled = _COMPILED.get(version.content_hash)
    if compiled is None:
        compiled = _COMPILED[version.content_hash] = forms.compile_form(forms.load_form(version.definition))
    return compiled


@db_session
def publish_default_form(db: Store) -> Any:
    """Create and publish `household_digital` unless that exact content is published already."""
    doc = forms.household_digital()
    form = db.Form.get(form_id=doc["id"])
    if form is None:
        create_form(db, doc)
    elif form.versions.select(lambda v: v.content_hash == forms.content_hash(doc)).exists():
        return None
    else:
        save_draft(db, doc["id"], doc)
    return publish(db, doc["id"], published_by="langso db init")
