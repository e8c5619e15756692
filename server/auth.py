"""Who is calling: argon2 password hashes, tokens stored as digests (API, device, web session), CSRF.

Every request resolves at most one user (`g.user`); views then ask `sync.access.may`.
"""
import functools
from datetime import datetime, timedelta

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect

from sync import access, accounts
from sync.accounts import (
    check_nobodys_password,
    check_password,
    issue_token,
    needs_rehash,
    rehash_password,
    revoke_tokens,
    token_digest,
    touch_token,
)

from . import security
from .errors import ApiError, error_response

csrf = CSRFProtect()
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def token_lifetime(kind, config=None):
    """How long a token of this kind lives (a timedelta), or None for no limit."""
    days = (config or current_app.config)["DEVICE_TOKEN_TTL_DAYS" if kind == "device" else "TOKEN_TTL_DAYS"]
    return timedelta(days=days) if days else None


def token_expires_at(token, config=None):
    """When a token stops working (None: never)."""
    lifetime = token_lifetime(token.kind, config)
    return token.created_at + lifetime if lifetime else None


def live_token(db, secret, kinds):
    """The live token of one of `kinds` with this secret, of an active user (touching its last use), or None.

    Each kind works only where it is meant to: "api" as Bearer on /api/v1, "device" (ODK
    Collect's QR codes) only on /odk/key/..., "session" only in the signed session cookie.
    """
    token = db.ApiToken.get(digest=token_digest(secret)) if secret else None
    if token is None or token.kind not in kinds or token.revoked_at or not token.user.active:
        return None
    expires = token_expires_at(token)
    now = datetime.utcnow()
    if expires is not None and expires <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        touch_token(db, token)
    return token


def user_for_token(db, secret, kinds=("api",)):
    """The active user a live token belongs to (setting g.token), or None."""
    token = live_token(db, secret, kinds)
    if token is None:
        return None
    g.token = token
    return token.user


def authenticate(db, username, password):
    """The user for these credentials, or ApiError: 429 while this name and address must wait
    (checked before any hash is computed), 401 for a wrong password, an unknown name or a
    disabled account alike (an unknown name is verified against a dummy hash, so it costs the
    same). Nothing locks the account: failures only slow down the address they come from."""
    throttle, source = security.throttle(), security.client_address()
    throttle.check(username, source)
    user = db.User.get(username=username)
    if user is None:
        check_nobodys_password(password)  # a real hash is verified all the same, so timing does not tell
        verified = False
    else:
        verified = check_password(user.password_hash, password) and user.active
    if not verified:
        throttle.failed(username, source)
        raise ApiError("bad_credentials", "wrong username or password")
    throttle.succeeded(username, source)
    if needs_rehash(user.password_hash):
        rehash_password(db, user, password)
    return user


def load_user():
    """Resolve g.user from an API bearer token or the session cookie (before each request)."""
    g.user, g.token, g.via_session, g.session_token = None, None, False, None
    db = current_app.extensions["langso_db"]
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        g.user = user_for_token(db, header[7:].strip(), kinds=("api",))
    elif session.get("sid"):
        token = live_token(db, session["sid"], kinds=("session",))
        if token is not None:
            g.user, g.via_session, g.session_token = token.user, True, token


def protect_session_writes():
    """Cookie-authenticated writes need a CSRF token; bearer-token calls cannot be forged by a page."""
    if request.method in SAFE_METHODS or request.headers.get("Authorization", "")[:7].lower() == "bearer ":
        return
    if session.get("sid") or request.endpoint in current_app.config.get("CSRF_LOGIN_ENDPOINTS", ()):
        csrf.protect()


def login_required(view):
    """401 unless a user was resolved for this request."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            raise ApiError("unauthorized", "authentication required: send 'Authorization: Bearer TOKEN'",
                           headers={"WWW-Authenticate": 'Bearer realm="langso"'})
        return view(*args, **kwargs)
    return wrapped


def roles_required(*roles):
    """401 when anonymous, 403 when the user's role is not one of `roles`."""
    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if g.user.role not in roles:
                raise ApiError("forbidden", "your role may not do this")
            return view(*args, **kwargs)
        return wrapped
    return decorate


def require(action, unit):
    """403 unless the current user may `action` the unit (the one scope check every view uses)."""
    if not access.may(g.user, action, unit):
        raise ApiError("forbidden", "unit %(unit)s is outside your scope", unit=unit.code)


def start_session(db, user):
    """Sign a web user in with a fresh session cookie, backed by a revocable "session" token.

    The cookie only names the server-side session: logging out, a password change or reset
    and disabling the account revoke it, so a copy of the cookie stops working too.
    """
    language = session.get("lang")
    session.clear()
    session["sid"] = issue_token(db, user, kind="session", label="web")
    if language:
        session["lang"] = language


def end_session(db):
    """Sign out: revoke this browser's session server-side and forget the cookie (keeping the language)."""
    token = g.get("session_token")
    if token is not None:
        revoke_tokens(db, token.user, ids=[token.id])
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def init_app(app):
    """Resolve the caller before every request and guard cookie-based writes with CSRF."""
    if app.config.get("PASSWORD_HASH"):
        accounts.use_password_parameters(**app.config["PASSWORD_HASH"])
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    app.before_request(load_user)
    app.before_request(protect_session_writes)
    app.register_error_handler(
        CSRFError, lambda e: error_response("csrf_failed", f"CSRF check failed: {e.description}"))
