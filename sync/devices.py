"""ODK Collect devices: provisioning an account (device token + settings QR code) and revoking it.

The one implementation behind `langso device qr|tokens|revoke` and /api/v1/odk/devices/...
A device token acts with the account's role and scope, but only on the OpenRosa views
({root}/odk/key/{token}; never as a Bearer token on /api/v1), expires after the server's
DEVICE_TOKEN_TTL_DAYS (a new QR code renews) and is revocable one phone at a time.
Who may issue one: `may_issue`; list and revoke: `may_manage`. Recording who did it is the
caller's business.
"""
from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import segno

from . import access, openrosa
from .accounts import issue_token, revoke_tokens

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


def expires_at(token: Any, ttl_days: int | None) -> datetime | None:
    """When a device token stops working (None: never, when no lifetime is configured)."""
    return token.created_at + timedelta(days=ttl_days) if ttl_days else None


def token_dict(token: Any, ttl_days: int | None, now: datetime | None = None) -> dict:
    """A device token as listed (never its secret): id, label, times, and whether it still works."""
    now = now or datetime.utcnow()
    expires = expires_at(token, ttl_days)
    return {"id": token.id, "label": token.label, "created_at": token.created_at, "expires_at": expires,
            "last_used_at": token.last_used_at, "revoked_at": token.revoked_at,
            "live": token.revoked_at is None and (expires is None or expires > now)}


def revoke_devices(db: Any, user: Any, ids: list[int] | None = None) -> int:
    """Revoke the account's live device tokens (those with `ids`, or all: its phones stop syncing); how many."""
    return revoke_tokens(db, user, kinds=("device",), ids=ids)


def may_manage(caller: Any, target: Any) -> bool:
    """Admins manage anyone; staff manage themselves and collectors entirely inside their scope."""
    if caller.role == "admin" or caller.id == target.id:
        return True
    if caller.role != "district_staff" or target.role != "collector":
        return False
    units = list(target.scope)
    return bool(units) and all(access.may(caller, access.WRITE, unit) for unit in units)


def may_issue(caller: Any, target: Any) -> bool:
    """Device tokens never for admin accounts (their powers would travel in a URL); admins issue them for
    any other account; district staff only for collectors of their district, never for themselves."""
    if target.role == "admin":
        return False
    if caller.role == "admin":
        return True
    return caller.id != target.id and may_manage(caller, target)


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
