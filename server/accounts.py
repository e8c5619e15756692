"""Account rules live in sync.accounts (no Flask needed); re-exported for the server's modules."""
from sync.accounts import (  # noqa: F401
    MIN_PASSWORD_LENGTH, SCOPE_LEVELS, AccountError, check_password, create_user, hash_password, role_scope,
    scope_unit)
