"""XLSForm imports: a spreadsheet read into a form definition and saved as a form's draft.

The one implementation behind `langso forms import FILE.xlsx` and `POST /api/v1/forms/import`.
The workbook is mapped onto our definition by forms/xlsform.py; problems come back located by
sheet and cell (`field` like 'survey!F7') in the one error item shape. Publishing stays a
separate step. Recording who imported it is the caller's business (the audit log).
"""
from __future__ import annotations

from typing import Any, BinaryIO

from forms.xlsform import ImportResult, XLSFormError, import_xlsform

from . import form_versions
from .errors import Invalid


def located(problem: dict[str, Any]) -> dict[str, Any]:
    """A spreadsheet problem in the one error item shape, with `field` like 'survey!F7'."""
    where = problem.get("cell") or (f"row {problem['row']}" if problem.get("row") else problem.get("column") or "")
    return {**problem, "field": f"{problem.get('sheet', 'survey')}!{where}" if where else problem.get("sheet")}


def read_xlsform(source: str | bytes | BinaryIO, accept_unsupported: bool = False) -> ImportResult:
    """Import a workbook; Invalid (with located errors) when unusable, or unsupported and not accepted."""
    try:
        result = import_xlsform(source)
    except XLSFormError as error:
        raise Invalid(error.message, [located(e) for e in error.errors]) from None
    if result.unsupported and not accept_unsupported:
        raise Invalid(f"{len(result.unsupported)} feature(s) of this XLSForm are not supported by langso; "
                      "nothing was stored. Remove them, or import again accepting that they are left out",
                      [located(e) for e in result.unsupported])
    return result


def save_import(db: Any, result: ImportResult) -> tuple[Any, bool]:
    """Store the imported definition as a draft (a new form, or the existing form's); returns (form, created)."""
    doc = result.definition
    created = db.Form.get(form_id=doc["id"]) is None
    if created:
        form = form_versions.create_form(db, doc)
    else:
        form_versions.save_draft(db, doc["id"], doc)
        form = db.Form.get(form_id=doc["id"])
    return form, created


def audit_details(result: ImportResult, created: bool) -> dict[str, Any]:
    """What the audit log keeps about an import (the same for the CLI and the API)."""
    return {"unsupported": len(result.unsupported), "created": created}
