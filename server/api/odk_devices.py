"""ODK Collect devices: QR codes that provision Collect for an account, and revoking them.

    POST   /api/v1/odk/devices/{username}/qr   a new device token as Collect's settings QR (PNG,
                                               or JSON with the payload when Accept: application/json)
    GET    /api/v1/odk/devices/{username}      the account's device tokens (never their secrets)
    DELETE /api/v1/odk/devices/{username}      revoke every device token of the account

Admins manage everyone; district staff manage themselves and collectors whose whole scope
lies inside their district. Revoking or disabling the account stops its devices at once.
"""
import base64

from flask import Response, current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from sync.devices import device_tokens, may_manage, provision, qr_png, revoke_devices

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
    last_used_at = UtcDateTime(allow_none=True)
    revoked_at = UtcDateTime(allow_none=True)


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
        return device_tokens(target)

    @blp.response(204)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @auth.roles_required("admin", "district_staff")
    def delete(self, username):
        """Revoke every device token of the account; its phones must scan a new QR code."""
        target = managed_user(username)
        count = revoke_devices(target)
        record(get_db(), "device_tokens_revoked", target.username, {"count": count})
