"""The audit log (admin): who did what to which thing and when, filterable by action, person, target and date."""
from datetime import datetime, timedelta

from flask import abort, render_template, request
from pony.orm import desc, select

from ..db import get_db
from .common import bp, roles

PAGE_SIZE = 200
MAX_PAGE = 1_000_000  # 200 million entries; a larger page number is a bad request, not a database error


def parse_day(text):
    """A yyyy-mm-dd date from a filter field, or None."""
    try:
        return datetime.strptime(text or "", "%Y-%m-%d")
    except ValueError:
        return None


@bp.route("/audit")
@roles("admin")
def audit():
    """The newest entries first, PAGE_SIZE at a time, filtered as asked."""
    db = get_db()
    args = {k: request.args.get(k, "").strip()[:200] for k in ("action", "actor", "target", "since", "until")}
    query = db.AuditEntry.select()
    if args["action"]:
        action = args["action"]
        query = query.filter(lambda e: e.action == action)
    if args["actor"]:
        actor = args["actor"]
        query = query.filter(lambda e: e.actor == actor)
    if args["target"]:
        target = args["target"]
        query = query.filter(lambda e: target in e.target)
    since, until = parse_day(args["since"]), parse_day(args["until"])
    if since:
        query = query.filter(lambda e: e.at >= since)
    if until:
        end = until + timedelta(days=1)
        query = query.filter(lambda e: e.at < end)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    if page > MAX_PAGE:
        abort(400)
    entries = list(query.order_by(lambda e: (desc(e.at), desc(e.id))).page(page, PAGE_SIZE))
    actions = sorted(select(e.action for e in db.AuditEntry).distinct())
    return render_template("audit.html", entries=entries, args=args, actions=actions, page=page,
                           more=len(entries) == PAGE_SIZE)
