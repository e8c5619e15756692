"""Creating accounts with a role and a scope that fits it."""
import unicodedata

from sync.errors import Invalid
from sync.store import ROLES

from .auth import hash_password

SCOPE_LEVELS = {"collector": ("village", "commune"), "district_staff": ("district",), "admin": ("province",)}
MIN_PASSWORD_LENGTH = 8


class AccountError(Invalid):
    code = "invalid"


def create_user(store, username, role, scope_codes, password, display_name=""):
    """Create a user after checking name, role, password length and scope levels."""
    username = unicodedata.normalize("NFC", username).strip()
    if not username or store.User.exists(username=username):
        raise AccountError(f"username {username!r} is empty or taken")
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    scope = [scope_unit(store, role, code) for code in scope_codes]
    if role == "admin" and not scope:
        scope = list(store.Unit.select(lambda u: u.parent is None))
    if not scope:
        raise AccountError(f"a {role} needs a scope: --scope CODE")
    return store.User(username=username, role=role, password_hash=hash_password(password),
                      display_name=unicodedata.normalize("NFC", display_name or ""), scope=scope)


def scope_unit(store, role, code):
    """The unit for a scope code, checked against the levels the role may be scoped to."""
    unit = store.Unit.get(code=code)
    if unit is None:
        raise AccountError(f"no unit with code {code}; see `langso units list`")
    if unit.level not in SCOPE_LEVELS[role]:
        raise AccountError(f"a {role} is scoped to {' or '.join(SCOPE_LEVELS[role])} units, "
                           f"and {code} is a {unit.level}")
    return unit

