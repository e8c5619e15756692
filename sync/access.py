"""The one answer to "may this user read or write this unit?"; no access is the default.

Admins act on the whole province; district staff and collectors act inside the units of
their scope (a unit is inside another when its path starts with the other's path).
Collectors write only villages; district staff decide on records inside their district.
"""
from __future__ import annotations

from typing import Any

from .store import Entity

READ, WRITE = "read", "write"


def scope_paths(user: Entity) -> list:
    """Path prefixes the user may act inside; admins get the root prefix."""
    if user is None or not user.active:
        return []
    if user.role == "admin":
        return ["/"]
    return sorted(unit.path for unit in user.scope)


def may(user: Entity, action: str, unit: Entity) -> Any:
    """True when `user` may `action` ("read" or "write") on `unit`; False for anything unknown."""
    if unit is None or action not in (READ, WRITE):
        return False
    inside = any(unit.path.startswith(prefix) for prefix in scope_paths(user))
    if not inside:
        return False
    if action == WRITE and user.role == "collector":
        return unit.children.is_empty()
    return True

