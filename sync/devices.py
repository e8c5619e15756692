"""ODK Collect devices: provisioning an account (device token + settings QR code) and revoking it.

The one implementation behind `langso device qr USER [--revoke]` and /api/v1/odk/devices/...
A device token is revocable and acts with the account's role and scope; Collect reaches the
OpenRosa views at {root}/odk/key/{token}. Recording who did it is the caller's business.
"""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import segno

from . import access, openrosa
from .accounts import issue_token

ODK_PATH = "/odk"  # where the server mounts the OpenRosa views (the OpenRosa views)


def device_url(root_url: str, token: str) -> str:
    """The server URL Collect is configured with for a device token (secret, like a password)."""
    return f"{root_url.rstrip('/')}{ODK_PATH}/key/{token}"


def provision(db: Any, user: Any, root_url: str, label: str = "ODK Collect") -> tuple[str, str]:
    """Issue a device token for `user`; returns (server_url, settings payload) for Collect's QR code."""
    secret = issue_token(db, user, kind="device", label=label)
    server_url = device_url(root_url, secret)
    payload = openrosa.settings_payload(openrosa.collect_settings(server_url))
    return server_url, payload


def device_tokens(user: Any) -> list[Any]:
    """The account's device tokens, newest first."""
    return list(user.tokens.select(lambda t: t.kind == "device").order_by(lambda t: -t.id))


def revoke_devices(user: Any, now: datetime | None = None) -> int:
    """Revoke every live device token of the account (its phones stop syncing); returns how many."""
    now = now or datetime.utcnow()
    count = 0
    for token in user.tokens.select(lambda t: t.kind == "device" and t.revoked_at is None):
        token.revoked_at, count = now, count + 1
    return count


def may_manage(caller: Any, target: Any) -> bool:
    """Admins manage anyone; staff manage themselves and collectors entirely inside their scope."""
    if caller.role == "admin" or caller.id == target.id:
        return True
    if caller.role != "district_staff" or target.role != "collector":
        return False
    units = list(target.scope)
    return bool(units) and all(access.may(caller, access.WRITE, unit) for unit in units)


def qr_png(payload: str, scale: int = 5) -> bytes:
    """The QR code of a settings payload as PNG bytes."""
    out = io.BytesIO()
    segno.make(payload, error="l", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_text(payload: str) -> str:
    """The QR code as Unicode half blocks for a terminal."""
    out = io.StringIO()
    segno.make(payload, error="l", micro=False).terminal(out=out, compact=True)
    return out.getvalue()
