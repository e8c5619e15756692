"""The incremental pull for devices: forms, villages and household keys, with a cursor.

    GET /api/v1/sync/manifest[?since=CURSOR]   (ETag = the cursor; If-None-Match -> 304)

The body is described in sync/manifest.py.
"""
from urllib.parse import quote

from flask import Response, g, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from sync.manifest import build_manifest, current_cursor, parse_cursor

from .. import auth
from ..db import get_db
from .schemas import ApiErrorSchema

blp = Blueprint("sync_manifest", __name__, url_prefix="/api/v1/sync", description="Incremental pull for devices")


class ManifestQuerySchema(Schema):
    since = fields.String(metadata={"description": "the cursor of an earlier manifest "
                                                                       "(its ETag); only changes since then"})


def form_url(form_id, version):
    """Where a device downloads a published form version (served by server/api/forms.py)."""
    return f"{request.host_url.rstrip('/')}/api/v1/forms/{quote(form_id)}/versions/{quote(version)}"


def etag_matches(cursor):
    """True when the client's If-None-Match names this cursor."""
    return request.if_none_match.contains(cursor) if request.if_none_match else False


@blp.route("/manifest")
class Manifest(MethodView):
    @auth.login_required  # outermost: 401 before any look at the request
    @blp.arguments(ManifestQuerySchema, location="query", as_kwargs=True)
    @blp.doc(responses={"200": {"description": "the manifest (see sync/manifest.py)"},
                        "304": {"description": "nothing changed since the ETag given in If-None-Match"}})
    @blp.alt_response(400, schema=ApiErrorSchema)
    @blp.alt_response(401, schema=ApiErrorSchema)
    def get(self, since=None):
        """Published forms, villages in scope and household keys; only changes with ?since=CURSOR."""
        db, since = get_db(), since or None
        if since:
            parse_cursor(since)
        cursor = current_cursor(db, g.user)
        if etag_matches(cursor):
            response = Response(status=304)
        else:
            body = build_manifest(db, g.user, since, form_url)
            cursor, response = body["cursor"], jsonify(body)
        response.set_etag(cursor)
        response.headers["Cache-Control"] = "private, no-cache"
        return response
