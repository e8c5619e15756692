"""Streaming CSV and XLSX exports of a unit's submissions (admins and district staff only)."""
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from exports.rollups import check_round
from exports.tabular import export
from forms.i18n import languages
from sync.units import get_unit

from .. import auth
from ..audit import record
from ..db import get_db
from .schemas import ApiErrorSchema

blp = Blueprint("exports", __name__, url_prefix="/api/v1/exports",
                description="Submission data as CSV or XLSX, streamed")
EXPORT_ROLES = ("admin", "district_staff")


class ExportQuerySchema(Schema):
    round = fields.String(load_default=None, metadata={"description": "survey round (default: all rounds)"})
    personal = fields.Boolean(load_default=False, metadata={
        "description": "1 to include personal fields (head of household, phone, GPS)"})
    headers = fields.String(load_default="names", validate=validate.OneOf(("names", "labels")))
    lang = fields.String(load_default="vi", validate=validate.OneOf(languages()))


def stream(code, fmt, query):
    """Check scope and round, audit, and stream the export of `code` in `fmt`."""
    db = get_db()
    auth.require("read", get_unit(db, code))
    round_name = check_round(db, "household_digital", query["round"])
    prepared = export(db, code, fmt, round=round_name, personal=query["personal"],
                      use_labels=query["headers"] == "labels", lang=query["lang"])
    record(db, "export_downloaded", code,
           {"format": fmt, "round": round_name, "personal": query["personal"]})
    return Response(prepared.chunks, mimetype=prepared.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{prepared.filename}"',
        "Cache-Control": "private, no-store", "X-Accel-Buffering": "no"})


def export_view(fmt):
    """A MethodView class serving `/<code>.<fmt>`."""
    class ExportView(MethodView):
        @blp.arguments(ExportQuerySchema, location="query")
        @blp.alt_response(200, description=f"the export as {fmt}")
        @blp.alt_response(401, schema=ApiErrorSchema)
        @blp.alt_response(403, schema=ApiErrorSchema)
        @blp.alt_response(404, schema=ApiErrorSchema)
        @blp.alt_response(422, schema=ApiErrorSchema)
        @auth.roles_required(*EXPORT_ROLES)
        def get(self, query, code):
            """The unit's current submissions, one row per household and round; audited."""
            return stream(code, fmt, query)
    ExportView.__name__ = f"Export{fmt.upper()}"
    ExportView.get.__doc__ = (f"The unit's current submissions as {fmt.upper()}, "
                              "one row per household and round; audited.")
    return ExportView


blp.route("/<code>.csv")(export_view("csv"))
blp.route("/<code>.xlsx")(export_view("xlsx"))
