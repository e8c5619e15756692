"""The quarantine over the API: rejected and conflicting records, accepted as corrected or discarded.

    GET  /api/v1/submissions/quarantine?unit=CODE&page=1&page_size=50
    POST /api/v1/submissions/{instance_id}/accept    {"answers"?: {...}, "village_code"?: "..."}
    POST /api/v1/submissions/{instance_id}/discard   {"reason"?: "..."}

For admins and district staff; whether the caller may decide on a record (its village in
their scope, re-checked for a new village) is sync/ingest_quarantine.py's one rule. Without
"answers", accept re-validates the answers as they were sent (a record rejected only for its
village, say, once the village is known or given). Each decision is audited.
"""
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from sync.ingest_quarantine import accept_corrected, discard, quarantine_page, stored_record
from sync.ingest_sql import Sql
from sync.units import get_unit

from .. import auth
from ..audit import record
from ..db import get_db
from .schemas import ApiErrorSchema, ErrorItemSchema
from .submissions import LangQuerySchema, request_lang

blp = Blueprint("quarantine", __name__, url_prefix="/api/v1/submissions",
                description="Quarantined submissions: accept as corrected or discard")
DECIDERS = ("admin", "district_staff")


class QuarantineQuerySchema(Schema):
    unit = fields.String(metadata={"description": "a unit code in your scope (default: all your scope)"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class QuarantinedSchema(Schema):
    instance_id = fields.String()
    copy_of = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["rejected", "conflict"]})
    village_code = fields.String(allow_none=True)
    household_key = fields.String(allow_none=True)
    form_id = fields.String(allow_none=True)
    form_version = fields.String(allow_none=True)
    collected_at = fields.String(allow_none=True)
    received_at = fields.String(allow_none=True)
    collector = fields.String(allow_none=True)
    errors = fields.List(fields.Nested(ErrorItemSchema))
    flags = fields.List(fields.String())
    answers = fields.Dict(allow_none=True)


class QuarantinePageSchema(Schema):
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    items = fields.List(fields.Nested(QuarantinedSchema))


class AcceptSchema(Schema):
    answers = fields.Dict(metadata={"description": "corrected answers (default: the answers as sent)"})
    village_code = fields.String(metadata={"description": "another village for the record (optional)"})


class DiscardSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class DecisionSchema(Schema):
    instance_id = fields.String()
    copy_of = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["accepted", "superseded", "discarded"]})
    is_current = fields.Boolean()
    errors = fields.List(fields.Nested(ErrorItemSchema))
    flags = fields.List(fields.String())
    previous_status = fields.String()


def _decision_docs(view):
    """The error answers every decision shares."""
    for status in (401, 403, 404, 409, 422):
        view = blp.alt_response(status, schema=ApiErrorSchema)(view)
    return view


@blp.route("/quarantine")
class Quarantine(MethodView):
    @blp.arguments(QuarantineQuerySchema, location="query")
    @blp.response(200, QuarantinePageSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(403, schema=ApiErrorSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @auth.roles_required(*DECIDERS)
    def get(self, query):
        """Rejected and conflicting records in a unit or your whole scope, latest first."""
        db, unit = get_db(), None
        if query.get("unit"):
            unit = get_unit(db, query["unit"])
            auth.require("read", unit)
        return quarantine_page(db, g.user, unit, query["page"], query["page_size"])


def _stored_answers(db, instance_id):
    """The answers as sent, for an accept without a body (None when there is no such record)."""
    found = stored_record(Sql(db), instance_id)
    if found is None:
        return None
    answers = found.raw.get("answers") if isinstance(found.raw, dict) else None
    return answers if answers is not None else {}


@blp.route("/<path:instance_id>/accept")
class Accept(MethodView):
    @blp.arguments(AcceptSchema, required=False)
    @blp.arguments(LangQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, DecisionSchema)
    @_decision_docs
    @auth.roles_required(*DECIDERS)
    def post(self, body, instance_id, lang=None):
        """Accept a quarantined record with corrected (or the sent) answers through the ingest rules."""
        db = get_db()
        answers = body.get("answers")
        if answers is None:
            answers = _stored_answers(db, instance_id)
        result = accept_corrected(db, g.user, instance_id, answers, lang=request_lang(lang),
                                  village_code=body.get("village_code"))
        record(db, "quarantine_accepted", instance_id,
               {"status": result["status"], "previous_status": result["previous_status"],
                "previous_errors": result["previous_errors"], "village_code": body.get("village_code"),
                "corrected": "answers" in body})
        return result


@blp.route("/<path:instance_id>/discard")
class Discard(MethodView):
    @blp.arguments(DiscardSchema, required=False)
    @blp.response(200, DecisionSchema)
    @_decision_docs
    @auth.roles_required(*DECIDERS)
    def post(self, body, instance_id):
        """Discard a quarantined record: never counted, kept for audit with the reason."""
        db = get_db()
        result = discard(db, g.user, instance_id, reason=body.get("reason", ""))
        record(db, "quarantine_discarded", instance_id,
               {"reason": body.get("reason", ""), "previous_status": result["previous_status"]})
        return result
