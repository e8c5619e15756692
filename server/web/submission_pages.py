"""Submissions: the quarantine (rejected and conflicting records) for staff in scope, one's own for collectors.

Staff can re-check edited answers with the form engine (the version the record was collected
with) and accept the record as corrected or discard it, through the ingest module's own
functions so the same rules apply; both are audited.
"""
import json

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from sync import access, form_versions, ingest, submission_table
from sync.errors import LangsoError
from sync.ingest_items import MAX_NESTING, flattened, nesting

from ..audit import record
from ..db import get_db
from .common import bp, form_errors, roles
from .i18n import current_language

QUARANTINE = ("rejected", "conflict")
STATUS_FILTERS = ("quarantine", "rejected", "conflict", "accepted", "superseded", "all")
PAGE_SIZE = 100


def scoped(query, user):
    """Submissions the user may see: all for admins, their scope's villages for staff, their own for collectors."""
    if user.role == "admin":
        return list(query.order_by(lambda s: -s.seq)[:PAGE_SIZE])
    if user.role == "collector":
        name = user.username
        return list(query.filter(lambda s: s.collector == name).order_by(lambda s: -s.seq)[:PAGE_SIZE])
    found = []
    for prefix in access.scope_paths(user):
        # B023 is a false alarm: Pony runs the query here, in this iteration, with this `prefix`
        found += query.filter(lambda s: s.village is not None and s.village.path.startswith(prefix))[:PAGE_SIZE]  # noqa: B023
    return sorted({s.id: s for s in found}.values(), key=lambda s: -s.seq)[:PAGE_SIZE]


@bp.route("/submissions")
@roles("admin", "district_staff", "collector")
def submissions():
    """The quarantine list for staff (filterable by status), a collector's own records with their status."""
    db = get_db()
    default = "all" if g.user.role == "collector" else "quarantine"
    chosen = request.args.get("status") if request.args.get("status") in STATUS_FILTERS else default
    statuses = {"quarantine": QUARANTINE, "all": None}.get(chosen, (chosen,))
    query = db.Submission.select()
    if statuses:
        query = query.filter(lambda s: s.status in statuses)
    village = request.args.get("village", "").strip()
    if village:
        query = query.filter(lambda s: s.village_code == village)
    return render_template("submissions.html", rows=scoped(query, g.user), chosen=chosen,
                           filters=STATUS_FILTERS, village=village, page_size=PAGE_SIZE)


def visible_submission(submission_id):
    """The submission if the user may see it (staff in scope, a collector their own), else 404/403."""
    submission = get_db().Submission.get(id=submission_id)
    if submission is None:
        abort(404)
    user = g.user
    if user.role == "collector":
        if submission.collector != user.username:
            abort(403)
    elif user.role != "admin" and not access.may(user, "read", submission.village):
        abort(403)
    return submission


def may_decide(submission):
    """Admins, and district staff whose scope holds the village, decide on quarantined records."""
    if submission.status not in QUARANTINE or g.user.role == "collector":
        return False
    return g.user.role == "admin" or access.may(g.user, "write", submission.village)


def actions_available():
    """Which quarantine actions the ingest module offers on this server."""
    return {"accept": hasattr(ingest, "accept_corrected"), "discard": hasattr(ingest, "discard")}


@bp.route("/submissions/<int:submission_id>")
@roles("admin", "district_staff", "collector")
def submission(submission_id):
    """One record: its errors, answers, and (for a conflict) the copy it conflicts with."""
    found = visible_submission(submission_id)
    return detail(found, answers_text(found))


def answers_text(found):
    """The answers as sent: a rejected record keeps them only in its raw copy.

    Data stored before ingest bounded nesting may be too deep for the json module: it is shown
    cut at MAX_NESTING levels (or, if it cannot even be decoded, as the start of its stored text).
    """
    try:
        raw = found.raw
    except RecursionError:
        return _stored_text(found)
    answers = found.answers or (raw or {}).get("answers") if isinstance(raw or {}, dict) else found.answers
    if nesting(answers) > MAX_NESTING:
        answers = flattened(answers, MAX_NESTING)
    return json.dumps(answers or {}, ensure_ascii=False, indent=2, sort_keys=False)


def _stored_text(found):
    return submission_table.stored_raw_text(get_db(), found.id)


def detail(found, text, errors=None, checked=False, status=200):
    """Render the detail page."""
    db = get_db()
    original = None
    if found.copy_of:
        original = db.Submission.get(instance_id=found.copy_of)
    return render_template("submission.html", s=found, original=original, text=text, errors=errors or [],
                           checked=checked, may_decide=may_decide(found), actions=actions_available()), status


def recheck(found, text):
    """(answers, errors): the edited answers checked by the engine against the record's form version."""
    try:
        answers = json.loads(text or "{}")
    except ValueError as problem:
        return None, [{"field": None, "code": "malformed_json", "message": str(problem)}]
    if not isinstance(answers, dict):
        return None, [{"field": None, "code": "not_an_object", "message": _("The answers must be a JSON object.")}]
    try:
        version = form_versions.get_version(get_db(), found.form_id, found.form_version)
    except LangsoError as error:
        return answers, form_errors(error)
    result = form_versions.compiled_version(version).validate(answers, lang=current_language())
    return answers, [{**e, "field": f"answers.{e['field']}" if e.get("field") else None} for e in result.errors]


@bp.route("/submissions/<int:submission_id>/decide", methods=["POST"])
@roles("admin", "district_staff")
def submission_decide(submission_id):
    """action=check re-validates the edited answers; accept accepts them as corrected; discard drops the record."""
    found = visible_submission(submission_id)
    if not may_decide(found):
        abort(403)
    action, text = request.form.get("action", "check"), request.form.get("text", "")
    if action == "discard":
        return discard(found)
    answers, errors = recheck(found, text)
    if action != "accept" or errors:
        return detail(found, text, errors, checked=True, status=422 if errors else 200)
    return accept(found, answers, text)


def accept(found, answers, text):
    """Accept the corrected answers through ingest's own rules (re-validated there too)."""
    if not actions_available()["accept"]:
        flash(_("Accepting corrected records is not available on this server yet."), "error")
        return detail(found, text, status=501)
    db = get_db()
    try:
        ingest.accept_corrected(db, g.user, found.instance_id, answers, lang=current_language())
    except LangsoError as error:
        return detail(found, text, form_errors(error), checked=True, status=422)
    record(db, "quarantine_accepted", found.instance_id, {"via": "web"})
    flash(_("The corrected record was accepted."), "success")
    return redirect(url_for("web.submissions"))


def discard(found):
    """Discard a quarantined record (kept for the audit trail, never counted)."""
    if not actions_available()["discard"]:
        flash(_("Discarding records is not available on this server yet."), "error")
        return detail(found, answers_text(found), status=501)
    db = get_db()
    reason = request.form.get("reason", "").strip()[:500]
    try:
        ingest.discard(db, g.user, found.instance_id, reason=reason)
    except LangsoError as error:
        return detail(found, answers_text(found), form_errors(error), checked=True, status=422)
    record(db, "quarantine_discarded", found.instance_id, {"reason": reason, "via": "web"})
    flash(_("The record was discarded."), "success")
    return redirect(url_for("web.submissions"))
