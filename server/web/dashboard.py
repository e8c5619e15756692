"""The dashboard: a unit's indicators against the 2025/2030 targets and its child units, by round.

Every figure comes from `exports.rollups.rollup`, the same function behind
GET /api/v1/rollups/{unit}, so the page and the API always show the same numbers.
"""
from urllib.parse import urlencode

from flask import current_app, flash, g, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from exports import rollups
from sync import access
from sync.errors import Invalid, NotFound
from sync.units import ancestors

from ..db import get_db
from .common import bp, home_unit, roles, unit_in_scope
from .i18n import current_language

DOWNLOADS = (("pdf", "/api/v1/reports/{code}.pdf", ("round", "lang")),
             ("csv", "/api/v1/exports/{code}.csv", ("round",)),
             ("xlsx", "/api/v1/exports/{code}.xlsx", ("round",)))


@bp.route("/dashboard")
@bp.route("/dashboard/<code>")
@roles("admin", "district_staff", "collector")
def dashboard(code=None):
    """A unit's roll-up for one form and round, with drill-down links to its children."""
    db = get_db()
    unit = unit_in_scope(code) if code else home_unit(g.user)
    if unit is None:
        return render_template("dashboard.html", unit=None, figures=None)
    form_id = request.args.get("form") or rollups.DEFAULT_FORM
    round_name = request.args.get("round") or None
    figures, available_rounds = load_figures(db, unit, form_id, round_name)
    if figures is not None:
        round_name = figures["round"]
    return render_template(
        "dashboard.html", unit=unit, figures=figures, form_id=form_id, round=round_name,
        rounds=available_rounds, forms=[f.form_id for f in db.Form.select().order_by(lambda f: f.form_id)],
        trail=[u for u in ancestors(unit) if access.may(g.user, "read", u)],
        downloads=download_links(unit, round_name, form_id),
        small_threshold=current_app.config["SMALL_NUMBER_THRESHOLD"],
        readable=lambda code: access.may(g.user, "read", db.Unit.get(code=code)))


def load_figures(db, unit, form_id, round_name):
    """The roll-up and the rounds with data; (None, []) while the form does not exist yet."""
    try:
        available = rollups.rounds(db, form_id)
    except NotFound:
        return None, []
    threshold = current_app.config["SMALL_NUMBER_THRESHOLD"]
    try:
        return rollups.rollup(db, unit.code, form_id=form_id, round=round_name,
                              lang=current_language(), small_threshold=threshold), available
    except NotFound:
        return None, available
    except Invalid as error:
        flash(_("Unknown survey round %(name)s; showing all rounds.", name=round_name), "error")
        current_app.logger.info("dashboard round refused: %s", error)
        return rollups.rollup(db, unit.code, form_id=form_id, round=None, lang=current_language(),
                              small_threshold=threshold), available


def download_links(unit, round_name, form_id):
    """(kind, url) for each report or export whose API endpoint exists on this server."""
    adapter = current_app.url_map.bind("localhost")
    links = []
    for kind, pattern, params in DOWNLOADS:
        path = pattern.format(code=unit.code)
        try:
            adapter.match(path, method="GET")
        except HTTPException:
            continue
        query = {"round": round_name or "", "lang": current_language(), "form": form_id}
        query = {k: v for k, v in query.items() if (k in params or k == "form") and v}
        if form_id == rollups.DEFAULT_FORM:
            query.pop("form", None)
        links.append((kind, path + ("?" + urlencode(query) if query else "")))
    return links
