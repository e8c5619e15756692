"""Household submissions: the idempotent batch upload and receipts for devices.

    POST /api/v1/submissions/batch   {"submissions": [...]} -> {"results": [...]}
    GET  /api/v1/submissions/status?ids=a,b,c

Only request-level problems fail the whole request (401, 400, 413, 415, in the one error
shape); each submission gets its own result (see sync/ingest.py).
"""
import zlib

import orjson
from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from sync.ingest import ingest_batch
from sync.ingest_items import decode_envelope
from sync.ingest_receipts import receipts

from .. import auth
from ..db import get_db
from ..errors import ApiError
from .schemas import ApiErrorSchema, ErrorItemSchema

blp = Blueprint("submissions", __name__, url_prefix="/api/v1/submissions",
                description="Household submissions from devices")
LANGS = ("vi", "en")
MAX_STATUS_IDS = 1000
ROLES = ("collector", "district_staff", "admin")


class ResultSchema(Schema):
    instance_id = fields.String()
    status = fields.String(metadata={"enum": ["accepted", "duplicate", "conflict", "rejected"]})
    errors = fields.List(fields.Nested(ErrorItemSchema))
    flags = fields.List(fields.String())


class BatchResultSchema(Schema):
    results = fields.List(fields.Nested(ResultSchema))


class ReceiptSchema(Schema):
    instance_id = fields.String()
    status = fields.String(metadata={"enum": ["accepted", "superseded", "conflict", "rejected", "discarded", "unknown"]})
    errors = fields.List(fields.Nested(ErrorItemSchema))
    flags = fields.List(fields.String())
    received_at = fields.String(allow_none=True)
    copies = fields.List(fields.Dict())


class ReceiptsSchema(Schema):
    results = fields.List(fields.Nested(ReceiptSchema))


def request_lang():
    """?lang=en, else the best of Accept-Language, else Vietnamese."""
    asked = request.args.get("lang")
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
        raise ApiError("unsupported_media_type", "Content-Encoding %(encoding)r is not supported; send gzip or identity",
                       encoding=encoding)
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


@blp.route("/batch")
class Batch(MethodView):
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": {"submissions": {"type": "array", "items": {"type": "object"}}}}}}})
    @blp.response(200, BatchResultSchema)
    @blp.alt_response(400, schema=ApiErrorSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @blp.alt_response(413, schema=ApiErrorSchema)
    @blp.alt_response(415, schema=ApiErrorSchema)
    @auth.roles_required(*ROLES)
    def post(self):
        """Upload household submissions; one result per item (accepted, duplicate, conflict, rejected)."""
        config = current_app.config
        body = read_body(int(config["BATCH_MAX_BYTES"]))
        items = decode_envelope(body, int(config["BATCH_MAX_SUBMISSIONS"]))
        results = ingest_batch(get_db(), g.user, items, lang=request_lang())
        return current_app.response_class(orjson.dumps({"results": results}), mimetype="application/json")


@blp.route("/status")
class Status(MethodView):
    @blp.response(200, ReceiptsSchema)
    @blp.alt_response(400, schema=ApiErrorSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    @auth.roles_required(*ROLES)
    def get(self):
        """What the server holds for these instance ids (status "unknown" for ids you may not see)."""
        ids = [part.strip() for part in request.args.get("ids", "").split(",") if part.strip()]
        if not ids:
            raise ApiError("bad_request", "give ?ids=ID,ID,...",
                           [{"field": "ids", "code": "required", "message": "at least one id"}])
        if len(ids) > MAX_STATUS_IDS:
            raise ApiError("bad_request", f"at most {MAX_STATUS_IDS} ids per request",
                           [{"field": "ids", "code": "too_many", "message": f"{len(ids)} > {MAX_STATUS_IDS}"}])
        return {"results": receipts(get_db(), g.user, ids)}
