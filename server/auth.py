"""Who is calling: argon2 password hashes, bearer tokens stored as digests, session cookies, CSRF.

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
    count_failed_login,
    needs_rehash,
    rehash_password,
    reset_failed_logins,
    token_digest,
    touch_token,
)

from .errors import ApiError, error_response

csrf = CSRFProtect()
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def user_for_token(db, secret):
    """The active user a live token belongs to (touching its last-used time), or None."""
    token = db.ApiToken.get(digest=token_digest(secret))
    if token is None or token.revoked_at or not token.user.active:
        return None
    ttl = current_app.config["TOKEN_TTL_DAYS"]
    if ttl and token.kind == "api" and token.created_at < datetime.utcnow() - timedelta(days=ttl):
        return None
    if token.last_used_at is None or datetime.utcnow() - token.last_used_at > timedelta(minutes=1):
        touch_token(db, token)
    g.token = token
    return token.user


def authenticate(db, username, password):
    """The user for these credentials, counting failures and locking after too many; or ApiError."""
    user = db.User.get(username=username)
    if user is None:
        check_nobodys_password(password)  # a real hash is verified all the same, so timing does not tell
        raise ApiError("bad_credentials", "wrong username or password")
    now = datetime.utcnow()
    if user.locked_until and user.locked_until > now:
        raise ApiError("account_locked", "too many failed logins; try again later")
    if not check_password(user.password_hash, password) or not user.active:
        count_failed_login(db, user, current_app.config["LOGIN_MAX_FAILURES"],
                           timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]))
        raise ApiError("bad_credentials", "wrong username or password")
    if user.failed_logins:
        reset_failed_logins(db, user)
    if needs_rehash(user.password_hash):
        rehash_password(db, user, password)
    return user


def load_user():
    """Resolve g.user from a bearer token or the session cookie (before each request)."""
    g.user, g.token, g.via_session = None, None, False
    db = current_app.extensions["langso_db"]
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        g.user = user_for_token(db, header[7:].strip())
    elif session.get("user_id"):
        user = db.User.get(id=session["user_id"])
        if user and user.active and session.get("auth_epoch") == auth_epoch(user):
            g.user, g.via_session = user, True


def protect_session_writes():
    """Cookie-authenticated writes need a CSRF token; bearer-token calls cannot be forged by a page."""
    if request.method in SAFE_METHODS or request.headers.get("Authorization", "")[:7].lower() == "bearer ":
        return
    if session.get("user_id") or request.endpoint in current_app.config.get("CSRF_LOGIN_ENDPOINTS", ()):
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
        raise ApiError("forbidden", f"unit {unit.code} is outside your scope")


def start_session(user):
    """Sign a web user in with a fresh session cookie."""
    session.clear()
    session["user_id"] = user.id
    session["auth_epoch"] = auth_epoch(user)


def auth_epoch(user):
    """Changes with the password, so a password change ends every other session."""
    return token_digest(user.password_hash)[:16]


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
