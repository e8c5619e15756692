"""PDF reports of a unit's indicators (district staff: their district; collectors: none)."""
from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from forms.i18n import languages
from sync.units import get_unit

from .. import auth
from ..audit import record
from ..db import get_db
from .schemas import ApiErrorSchema

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Printable PDF reports of the indicators")
REPORT_ROLES = ("admin", "district_staff")


class ReportQuerySchema(Schema):
    round = fields.String(load_default=None, metadata={"description": "survey round (default: all rounds)"})
    lang = fields.String(load_default="vi", validate=validate.OneOf(languages()))


@blp.route("/<code>.pdf")
class Report(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.alt_response(200, description="the report as application/pdf")
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(422, schema=ApiErrorSchema)
    @auth.roles_required(*REPORT_ROLES)
    def get(self, query, code):
        """The unit's report as a PDF (same data and day: byte-identical); audited."""
        from exports.pdf import unit_report  # reportlab loads on the first report, not at worker boot
        db = get_db()
        auth.require("read", get_unit(db, code))
        body = unit_report(db, code, round=query["round"], lang=query["lang"],
                           small_threshold=current_app.config.get("SMALL_NUMBER_THRESHOLD", 5))
        record(db, "report_downloaded", code, {"round": query["round"], "lang": query["lang"]})
        suffix = f"_{query['round']}" if query["round"] else ""
        return Response(body, mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="report_{code}{suffix}.pdf"',
            "Cache-Control": "private, no-store"})
