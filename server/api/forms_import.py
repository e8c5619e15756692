"""XLSForm import: an admin uploads an .xlsx and gets a form draft, with a report of what was left out.

    POST /api/v1/forms/import   multipart `file` (or the raw .xlsx body) [?accept_unsupported=true]

The spreadsheet is read by sync/form_imports.py (the same functions as `langso forms import`).
Unsupported features are listed by sheet, row and column; unless the admin confirms with
accept_unsupported=true nothing is stored (422). The result becomes the form's draft (a new
form, or the draft of the existing form with that id); publishing stays a separate step.
"""
import io

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from sync.form_imports import audit_details, read_xlsform, save_import

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
        form, created = save_import(db, result)
        record(db, "form_imported", form.form_id, audit_details(result, created))
        return {"form_id": form.form_id, "created": created, "draft": result.definition,
                "unsupported": result.unsupported, "replaced": result.replaced, "warnings": result.warnings}
