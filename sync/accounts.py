"""Accounts: argon2 password hashes, API tokens stored as digests, users with a role and a scope that fits it."""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pony.orm import flush

from forms.i18n import N_

from .errors import Invalid
from .store import ROLES, Entity, Store

SCOPE_LEVELS = {"collector": ("village", "commune"), "district_staff": ("district",), "admin": ("province",)}
MIN_PASSWORD_LENGTH = 8
# argon2id as RFC 9106 recommends where memory is scarce (argon2-cffi's defaults): 64 MiB, 3 passes, 4 lanes
PASSWORD_HASH_PARAMETERS = {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}
passwords = PasswordHasher(**PASSWORD_HASH_PARAMETERS)
_nobodys_hash = None  # made with `passwords` on first use


class AccountError(Invalid):
    code = "invalid"


def use_password_parameters(**parameters: Any) -> None:
    """Hash new passwords of this process with other argon2 parameters (the test suite's cheap ones).

    Given ones replace PASSWORD_HASH_PARAMETERS. Stored hashes keep verifying (each carries its own
    parameters); a login with a hash made with other parameters rehashes it.
    """
    global passwords, _nobodys_hash
    passwords, _nobodys_hash = PasswordHasher(**{**PASSWORD_HASH_PARAMETERS, **parameters}), None


def needs_rehash(password_hash: str) -> bool:
    """True if `password_hash` was made with other parameters than new hashes get."""
    return passwords.check_needs_rehash(password_hash)


def check_nobodys_password(password: str) -> None:
    """Verify `password` against a real hash made with today's parameters, so an unknown user takes as long."""
    global _nobodys_hash
    if _nobodys_hash is None:
        _nobodys_hash = passwords.hash("not-a-real-password")
    check_password(_nobodys_hash, password)


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return passwords.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    """True if `password` matches; never raises on a malformed hash."""
    try:
        return passwords.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """Tokens are 256-bit random strings, so a plain SHA-256 digest is a safe way to store them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(store: Store, user: Entity, kind: str = "api", label: str = "") -> str:
    """Create a token for `user`; returns the secret once (only its digest is stored)."""
    secret = secrets.token_urlsafe(32)
    store.ApiToken(user=user, digest=token_digest(secret), kind=kind, label=label)
    return secret


def revoke_tokens(store: Store, user: Entity, kinds: tuple[str, ...] | list[str] | None = None,
                  ids: list[int] | None = None) -> int:
    """Revoke the user's live tokens (of `kinds`, or with `ids`; all by default); returns how many.

    The tokens are found in SQL and taken from this transaction's cache where it holds them (one
    touched by touch_token in this request is not read again, so it is no conflict); the write
    itself waits for the commit, so two requests revoking at once never wait for each other.
    """
    flush()  # tokens issued in this transaction are revoked too
    params = {"user_id": user.id}
    sql = 'SELECT id FROM api_token WHERE "user" = $user_id AND revoked_at IS NULL'
    for column, values in (("kind", kinds), ("id", ids)):
        if values is not None:
            names = [f"{column}{n}" for n in range(len(values))]
            params.update(zip(names, values))
            sql += f" AND {column} IN ({', '.join('$' + name for name in names)})" if names else " AND 1 = 0"
    now = datetime.utcnow()
    found = store.select(sql, {}, params)
    for token_id in found:
        store.ApiToken[token_id].revoked_at = now
    return len(found)


def set_password(store: Store, user: Entity, password: str) -> int:
    """Give the user a new password and revoke every API token, device token and web session it had.

    Returns the number of tokens and sessions revoked. Raises AccountError for a short password.
    """
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(N_("password must have at least %(n)s characters"), n=MIN_PASSWORD_LENGTH)
    user.password_hash = hash_password(password)
    return revoke_tokens(store, user)


def touch_token(store: Store, token: str) -> None:
    """Record that a token was used now, in SQL: concurrent requests with one token never conflict."""
    store.execute("UPDATE api_token SET last_used_at = $now WHERE id = $token_id", {},
                  {"now": datetime.utcnow(), "token_id": token.id})


def rehash_password(store: Store, user: Entity, password: str) -> None:
    """Store a fresh hash of a verified password, unless the password was changed meanwhile."""
    store.execute("UPDATE app_user SET password_hash = $new WHERE id = $user_id AND password_hash = $old", {},
                  {"new": hash_password(password), "user_id": user.id, "old": user.password_hash})


def create_user(store: Store, username: str, role: str, scope_codes: Any, password: str, display_name: str = "",
                password_hash: Any | None = None) -> Any:
    """Create a user after checking name, role, password length and scope levels.

    `password_hash` lets bulk callers (the demo) hash one shared password once.
    """
    username = unicodedata.normalize("NFC", username).strip()
    if not username or store.User.exists(username=username):
        raise AccountError(N_("username %(username)r is empty or taken"), username=username)
    if password_hash is None and len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(N_("password must have at least %(n)s characters"), n=MIN_PASSWORD_LENGTH)
    scope = role_scope(store, role, scope_codes)
    return store.User(username=username, role=role, password_hash=password_hash or hash_password(password),
                      display_name=unicodedata.normalize("NFC", display_name or ""), scope=scope)


def role_scope(store: Store, role: str, scope_codes: Any) -> Any:
    """The units a role is scoped to, checked: admins default to the whole tree, others need codes."""
    if role not in ROLES:
        raise AccountError(N_("role must be one of %(roles)s"), roles=", ".join(ROLES))
    scope = [scope_unit(store, role, code) for code in scope_codes]
    if role == "admin" and not scope:
        scope = list(store.Unit.select(lambda u: u.parent is None))
    if not scope:
        raise AccountError(N_("a %(role)s needs a scope: --scope CODE"), role=role)
    return scope


def scope_unit(store: Store, role: str, code: str) -> Any:
    """The unit for a scope code, checked against the levels the role may be scoped to."""
    unit = store.Unit.get(code=code)
    if unit is None:
        raise AccountError(N_("no unit with code %(code)s; see `langso units list`"), code=code)
    if unit.level not in SCOPE_LEVELS[role]:
        raise AccountError(N_("a %(role)s is scoped to %(levels)s units, and %(code)s is a %(level)s"),
                           role=role, levels=" or ".join(SCOPE_LEVELS[role]), code=code, level=unit.level)
    return unit
