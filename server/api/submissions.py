"""Household submissions: the idempotent batch upload and receipts for devices.

    POST /api/v1/submissions/batch   {"submissions": [...]} -> {"results": [...]}
    GET  /api/v1/submissions/status?ids=a,b,c

Only request-level problems fail the whole request (401, 400, 413, 415, in the one error
shape); each submission gets its own result (see sync/ingest.py).

The batch body is described by BatchSchema / SubmissionSchema below, in the OpenAPI document
and for every reader, but not loaded through marshmallow: a batch of 500 items is decoded with
orjson (gzip allowed) and each item checked by ingest's fast path (sync/ingest_items.py), so
that one bad item is rejected on its own with field paths instead of failing the request. The
schema's rules are built from the same limits and the same time parser as that fast path, and
tests/test_batch_schema.py holds the two to the same verdict on generated items.
"""
import zlib

import orjson
from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import INCLUDE, Schema, fields, validate
from webargs.fields import DelimitedList

from forms.i18n import languages
from sync.ingest import ingest_batch
from sync.ingest_items import MAX_ID_LENGTH, MAX_KEY_LENGTH, decode_envelope, parse_collected_at
from sync.ingest_receipts import receipts

from .. import auth
from ..db import get_db
from ..errors import ApiError
from .schemas import ApiErrorSchema, ErrorItemSchema

blp = Blueprint("submissions", __name__, url_prefix="/api/v1/submissions",
                description="Household submissions from devices")
LANGS = languages()  # every language of the catalogue
MAX_STATUS_IDS = 1000
ROLES = ("collector", "district_staff", "admin")
# Ingest's rules for an identifying field: a string with something besides blanks (and, for
# instance_id, no NUL anywhere). One pattern each, so that the OpenAPI document can carry it.
NOT_BLANK = validate.Regexp(r"^[\s\S]*\S", error="must not be empty or blank")
NOT_BLANK_NOR_NUL = validate.Regexp(r"^[^\x00]*[^\s\x00][^\x00]*$",
                                    error="must not be empty or blank, nor contain NUL")


def identifier(limit, description, rule=NOT_BLANK, **options):
    """A required identifying text field of a submission, as ingest checks it."""
    return fields.String(required=True, validate=[validate.Length(max=limit), rule],
                         metadata={"description": description}, **options)


class CollectedAt(fields.String):
    """An ISO 8601 time with its UTC offset, judged by the parser ingest uses (parse_collected_at)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if parse_collected_at(text) is None:
            raise self.make_error("invalid_datetime")
        return text


class SubmissionSchema(Schema):
    """One household visit as a device sends it. Any other key is kept with the submission.

    A problem with one of these fields rejects only this item (result `rejected`, its `errors`
    naming the field); so do answers the form refuses (`answers.<question>`), an unknown form,
    version or village, and values no column can hold anywhere in the item (NaN, infinities,
    NUL, half a UTF-16 pair: `invalid_number`, `invalid_character`). Only an item without a
    usable `instance_id` fails the whole request (400), since no result could name it.
    """
    class Meta:
        unknown = INCLUDE

    instance_id = identifier(MAX_ID_LENGTH, "the device's id for this visit (a UUID); resending it is "
                             "idempotent", rule=NOT_BLANK_NOR_NUL)
    form_id = identifier(MAX_ID_LENGTH, "a published form, e.g. household_digital")
    form_version = identifier(MAX_ID_LENGTH, "one of its published versions, e.g. 2025.1")
    village_code = identifier(MAX_ID_LENGTH, "a village in the caller's scope")
    household_key = identifier(MAX_KEY_LENGTH, "the household within the village")
    collected_at = CollectedAt(required=True, error_messages={"invalid_datetime": "must be an ISO 8601 time "
                                                              "with offset, e.g. 2025-03-01T09:30:00+07:00"},
                               metadata={"format": "date-time", "example": "2025-03-01T08:00:00+07:00",
                                         "description": "when the visit was made, with the device's offset; "
                                                        "more than a day ahead is flagged, not rejected"})
    answers = fields.Dict(keys=fields.String(), required=True,
                          metadata={"description": "question name -> value, checked by the form version"})
    supersedes = fields.String(allow_none=True, validate=validate.Length(max=MAX_ID_LENGTH),
                               metadata={"description": "instance_id of the visit this one edits (optional)"})


class BatchSchema(Schema):
    """The batch envelope (at most BATCH_MAX_SUBMISSIONS items, BATCH_MAX_BYTES bytes)."""
    class Meta:
        unknown = INCLUDE

    submissions = fields.List(fields.Nested(SubmissionSchema), required=True, metadata={
        "description": "at most LANGSO_BATCH_MAX_SUBMISSIONS (1000 by default) per request"})


class LangQuerySchema(Schema):
    lang = fields.String(metadata={
        "enum": list(LANGS), "description": "language of the item error messages; otherwise "
                                            "Accept-Language, else Vietnamese"})


class IdList(DelimitedList):
    """Comma-separated ids; blanks around them and empty ones are ignored."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = ",".join(part.strip() for part in value.split(",") if part.strip())
        return super()._deserialize(value, attr, data, **kwargs)


TOO_MANY_IDS = f"at most {MAX_STATUS_IDS} ids per request"


class StatusQuerySchema(Schema):
    ids = IdList(fields.String(), required=True,
                 validate=[validate.Length(min=1, error="at least one id"),
                           validate.Length(max=MAX_STATUS_IDS, error=TOO_MANY_IDS)],
                 metadata={"description": "instance ids, comma-separated"})

    def handle_error(self, error, data, **kwargs):
        """A bad `ids` fails in the one error shape with the codes devices know (400: required, too_many)."""
        if TOO_MANY_IDS in error.messages.get("ids", []):
            count = sum(1 for part in str(data.get("ids", "")).split(",") if part.strip())
            raise ApiError("bad_request", TOO_MANY_IDS,
                           [{"field": "ids", "code": "too_many", "message": f"{count} > {MAX_STATUS_IDS}"}])
        raise ApiError("bad_request", "give ?ids=ID,ID,...",
                       [{"field": "ids", "code": "required", "message": "at least one id"}])


class ResultSchema(Schema):
    instance_id = fields.String()
    status = fields.String(metadata={"enum": ["accepted", "duplicate", "conflict", "rejected"]})
    errors = fields.List(fields.Nested(ErrorItemSchema))
    flags = fields.List(fields.String())


class BatchResultSchema(Schema):
    results = fields.List(fields.Nested(ResultSchema))


class ReceiptSchema(Schema):
    instance_id = fields.String()
    status = fields.String(
        metadata={"enum": ["accepted", "superseded", "conflict", "rejected", "discarded", "unknown"]})
    errors = fields.List(fields.Nested(ErrorItemSchema))
    flags = fields.List(fields.String())
    received_at = fields.String(allow_none=True)
    copies = fields.List(fields.Dict())


class ReceiptsSchema(Schema):
    results = fields.List(fields.Nested(ReceiptSchema))


def request_lang(asked=None):
    """`asked` (?lang=) when it is a language we have, else the best of Accept-Language, else Vietnamese."""
    if asked in LANGS:
        return asked
    return request.accept_languages.best_match(LANGS) or "vi"


def read_body(limit):
    """The JSON request body, gunzipped when sent with Content-Encoding: gzip; 413 past `limit` bytes."""
    if request.mimetype not in ("application/json", ""):  # no Content-Type at all is read as JSON
        raise ApiError("unsupported_media_type", "the body must be Content-Type: application/json, not %(type)s",
                       type=request.mimetype)
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip", ""):
        raise ApiError("unsupported_media_type",
                       "Content-Encoding %(encoding)r is not supported; send gzip or identity", encoding=encoding)
    if request.content_length is not None and request.content_length > limit:
        raise ApiError("too_large", f"the body is larger than {limit} bytes; send smaller batches")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise ApiError("too_large", f"the body is larger than {limit} bytes; send smaller batches")
    if encoding in ("gzip", "x-gzip"):
        body = gunzip(body, limit)
    return body


def gunzip(body, limit):
    """Decompress at most `limit` bytes (a gzip bomb stops there with 413)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise ApiError("bad_request", f"the gzip body cannot be decompressed: {error}") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise ApiError("too_large", f"the decompressed body is larger than {limit} bytes; send smaller batches")
    if not inflater.eof:
        raise ApiError("bad_request", "the gzip body is truncated")
    return data


BATCH_BODY = {
    "required": True,
    "description": "Send Content-Type: application/json, plain or with Content-Encoding: gzip.",
    "content": {"application/json": {"schema": BatchSchema}},
}
CONTENT_ENCODING = {"in": "header", "name": "Content-Encoding", "required": False,
                    "description": "gzip (or x-gzip) for a compressed body; identity or none otherwise",
                    "schema": {"type": "string", "enum": ["identity", "gzip", "x-gzip"]}}


@blp.route("/batch", parameters=[CONTENT_ENCODING])
class Batch(MethodView):
    @auth.roles_required(*ROLES)  # outermost: 401/403 before any look at the request
    @blp.arguments(LangQuerySchema, location="query", as_kwargs=True)
    @blp.doc(requestBody=BATCH_BODY)
    @blp.response(200, BatchResultSchema)
    @blp.alt_response(400, schema=ApiErrorSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema)
    @blp.alt_response(415, schema=ApiErrorSchema)
    def post(self, lang=None):
        """Upload household submissions; one result per item (accepted, duplicate, conflict, rejected)."""
        config = current_app.config
        body = read_body(int(config["BATCH_MAX_BYTES"]))
        items = decode_envelope(body, int(config["BATCH_MAX_SUBMISSIONS"]))
        results = ingest_batch(get_db(), g.user, items, lang=request_lang(lang))
        return current_app.response_class(orjson.dumps({"results": results}), mimetype="application/json")


@blp.route("/status")
class Status(MethodView):
    @auth.roles_required(*ROLES)
    @blp.arguments(StatusQuerySchema, location="query", as_kwargs=True, error_status_code=400)
    @blp.response(200, ReceiptsSchema)
    @blp.alt_response(400, schema=ApiErrorSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    def get(self, ids):
        """What the server holds for these instance ids (status "unknown" for ids you may not see)."""
        return {"results": receipts(get_db(), g.user, ids)}
