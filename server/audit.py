"""The audit log: who did what to which thing, and when (never secrets)."""
from flask import g, has_request_context


def record(db, action, target=None, details=None, actor=None):
    """Append one audit entry; the actor defaults to the signed-in user."""
    if actor is None and has_request_context() and g.get("user") is not None:
        actor = g.user.username
    db.AuditEntry(action=action, target=str(target) if target is not None else "",
                  actor=actor or "", details=details or {})
