"""XLSForm import: an admin uploads an .xlsx and gets a form draft, with a report of what was left out.

    POST /api/v1/forms/import   multipart `file` (or the raw .xlsx body) [?accept_unsupported=true]

The spreadsheet is read by pyxform and mapped onto our definition (forms/xlsform.py).
Unsupported features are listed by sheet, row and column; unless the admin confirms with
accept_unsupported=true nothing is stored (422). The result becomes the form's draft (a new
form, or the draft of the existing form with that id); publishing stays a separate step.
"""
import io

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from forms.xlsform import XLSFormError, import_xlsform
from sync import form_versions
from sync.errors import Invalid

from .. import auth
from ..audit import record
from ..db import get_db
from ..errors import ApiError
from .schemas import ApiErrorSchema

blp = Blueprint("forms_import", __name__, url_prefix="/api/v1/forms", description="Survey forms and their versions")
MAX_XLSFORM_BYTES = 5 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportOptionsSchema(Schema):
    accept_unsupported = fields.Boolean(load_default=False, metadata={
        "description": "store the draft even though the listed unsupported features are left out"})


class ImportResultSchema(Schema):
    form_id = fields.String()
    created = fields.Boolean()
    draft = fields.Dict()
    unsupported = fields.List(fields.Dict())
    replaced = fields.List(fields.Dict())
    warnings = fields.List(fields.String())


def located(problem):
    """A spreadsheet problem in the one error item shape, with `field` like 'survey!F7'."""
    where = problem.get("cell") or (f"row {problem['row']}" if problem.get("row") else problem.get("column") or "")
    return {**problem, "field": f"{problem.get('sheet', 'survey')}!{where}" if where else problem.get("sheet")}


def read_xlsform(source, accept_unsupported=False):
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


def save_import(db, result, actor):
    """Store the imported definition as a draft (a new form or the existing form's); returns (form, created)."""
    doc = result.definition
    created = db.Form.get(form_id=doc["id"]) is None
    if created:
        form = form_versions.create_form(db, doc)
    else:
        form_versions.save_draft(db, doc["id"], doc)
        form = db.Form.get(form_id=doc["id"])
    record(db, "form_imported", doc["id"], {"unsupported": len(result.unsupported), "created": created},
           actor=actor)
    return form, created


def _upload():
    """The uploaded workbook bytes (multipart `file`, or the raw body), at most MAX_XLSFORM_BYTES."""
    limit = int(current_app.config.get("XLSFORM_MAX_BYTES", MAX_XLSFORM_BYTES))
    if request.content_length is not None and request.content_length > limit + 4096:
        raise ApiError("too_large", f"the XLSForm is larger than {limit} bytes")
    part = request.files.get("file")
    data = part.stream.read(limit + 1) if part is not None else request.get_data()
    if not data:
        raise ApiError("bad_request", "send the .xlsx as the multipart field 'file'",
                       [{"field": "file", "code": "required", "message": "an .xlsx file is required"}])
    if len(data) > limit:
        raise ApiError("too_large", f"the XLSForm is larger than {limit} bytes")
    return data


@blp.route("/import")
class ImportXlsForm(MethodView):
    @blp.arguments(ImportOptionsSchema, location="query")
    @blp.response(201, ImportResultSchema)
    @blp.alt_response(413, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}})
    @auth.roles_required("admin")
    def post(self, options):
        """Import an XLSForm (.xlsx) as a form draft; unsupported features are reported by row and column."""
        result = read_xlsform(io.BytesIO(_upload()), options["accept_unsupported"])
        db = get_db()
        form, created = save_import(db, result, actor=None)
        return {"form_id": form.form_id, "created": created, "draft": result.definition,
                "unsupported": result.unsupported, "replaced": result.replaced, "warnings": result.warnings}
