"""ODK Collect devices: QR codes that provision Collect for an account, and revoking them.

    POST   /api/v1/odk/devices/{username}/qr   a new device token as Collect's settings QR (PNG,
                                               or JSON with the payload when Accept: application/json)
    GET    /api/v1/odk/devices/{username}      the account's device tokens (never their secrets)
    DELETE /api/v1/odk/devices/{username}      revoke every device token of the account
    DELETE /api/v1/odk/devices/{username}/{id} revoke one device token (one phone)

Device tokens work only on the OpenRosa endpoints (/odk/key/...), and expire after
DEVICE_TOKEN_TTL_DAYS (180); a new QR code renews. Who may issue them (`may_issue`): admins
for any active non-admin account; district staff only for collectors whose whole scope lies
inside their district, never for themselves; no one for an admin account. Listing and
revoking (`may_manage`): admins anyone, district staff themselves and those collectors.
Revoking, a password change and disabling the account stop its devices at once.
"""
import base64
from datetime import datetime

from flask import Response, current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from sync.devices import device_tokens, may_issue, may_manage, provision, qr_png, revoke_devices, token_dict

from .. import auth
from ..audit import record
from ..db import get_db
from ..errors import ApiError
from .schemas import ApiErrorSchema, UtcDateTime

blp = Blueprint("odk_devices", __name__, url_prefix="/api/v1/odk/devices",
                description="ODK Collect provisioning (QR codes) and device tokens")


class ProvisionSchema(Schema):
    username = fields.String()
    server_url = fields.String(metadata={"description": "secret: contains the device token"})
    payload = fields.String(metadata={"description": "zlib-compressed, base64-encoded Collect settings"})
    png = fields.String(metadata={"description": "the QR code as base64 PNG"})


class DeviceTokenSchema(Schema):
    id = fields.Integer()
    label = fields.String()
    created_at = UtcDateTime()
    expires_at = UtcDateTime(allow_none=True)
    last_used_at = UtcDateTime(allow_none=True)
    revoked_at = UtcDateTime(allow_none=True)
    live = fields.Boolean(metadata={"description": "neither revoked nor expired"})


def managed_user(username, active=False):
    """The account named in the URL, if the caller may manage it (404 otherwise, so names do not leak)."""
    target = get_db().User.get(username=username)
    if target is None or not may_manage(g.user, target):
        raise ApiError("not_found", f"no account {username!r} in your scope")
    if active and not target.active:
        raise ApiError("conflict", f"the account {username!r} is disabled")
    return target


@blp.route("/<username>/qr")
class DeviceQr(MethodView):
    @blp.response(200, ProvisionSchema, description="image/png by default; JSON when asked for")
    @blp.alt_response(404, schema=ApiErrorSchema)
    @auth.roles_required("admin", "district_staff")
    def post(self, username):
        """Issue a device token and return ODK Collect's settings QR code for the account."""
        target = managed_user(username, active=True)
        if not may_issue(g.user, target):
            raise ApiError("forbidden", "device tokens are issued only for the collectors of a district's staff, "
                                        "and by admins for other accounts that are not admins")
        db = get_db()
        root = current_app.config.get("PUBLIC_URL") or request.url_root
        server_url, payload = provision(db, target, root, label=f"ODK Collect (by {g.user.username})")
        record(db, "device_token_created", target.username, {"via": "qr"})
        png = qr_png(payload)
        if request.accept_mimetypes.best_match(["image/png", "application/json"]) == "application/json":
            return {"username": target.username, "server_url": server_url, "payload": payload,
                    "png": base64.b64encode(png).decode("ascii")}
        return Response(png, content_type="image/png", headers={"Cache-Control": "no-store"})


@blp.route("/<username>")
class DeviceTokens(MethodView):
    @blp.response(200, DeviceTokenSchema(many=True))
    @blp.alt_response(404, schema=ApiErrorSchema)
    @auth.roles_required("admin", "district_staff")
    def get(self, username):
        """The account's device tokens, newest first."""
        target = managed_user(username)
        now, ttl = datetime.utcnow(), current_app.config["DEVICE_TOKEN_TTL_DAYS"]
        return [token_dict(token, ttl, now) for token in device_tokens(target)]

    @blp.response(204)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @auth.roles_required("admin", "district_staff")
    def delete(self, username):
        """Revoke every device token of the account; its phones must scan a new QR code."""
        target = managed_user(username)
        count = revoke_devices(get_db(), target)
        record(get_db(), "device_tokens_revoked", target.username, {"count": count})


@blp.route("/<username>/<int:token_id>")
class DeviceToken(MethodView):
    @blp.response(204)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @auth.roles_required("admin", "district_staff")
    def delete(self, username, token_id):
        """Revoke one device token of the account (one phone); its other phones keep working."""
        target = managed_user(username)
        token = get_db().ApiToken.get(id=token_id)
        if token is None or token.user.id != target.id or token.kind != "device":
            raise ApiError("not_found", "no device token %(id)s of %(username)s", id=token_id, username=username)
        revoke_devices(get_db(), target, ids=[token.id])
        record(get_db(), "device_token_revoked", target.username, {"id": token.id})
