"""Form preview: the form rendered as a collector sees it; relevance and constraints checked by the server.

The page's small script never evaluates expressions itself: it posts the answers typed so
far to `/forms/<id>/preview/check`, which runs the real form engine (the same validation
ingest uses) and answers which questions are relevant, the calculated values and the errors.
"""
from flask import abort, jsonify, render_template, request

import forms
from forms.errors import DefinitionError, FormError
from forms.evaluate import to_bool
from sync import form_versions

from ..db import get_db
from .common import bp, roles
from .i18n import current_language


def preview_document(form_id, version=None):
    """The definition to preview: a published version when named, else the draft."""
    db = get_db()
    if version:
        return form_versions.get_version(db, form_id, version).definition
    form = form_versions.get_form(db, form_id)
    return form.draft or {}


@bp.route("/forms/<form_id>/preview")
@roles("admin")
def form_preview(form_id):
    """The questions as input widgets, grouped, with labels and hints in the page language."""
    version = request.args.get("version") or None
    document = preview_document(form_id, version)
    try:
        definition = forms.load_form(document)
    except DefinitionError as error:
        return render_template("form_preview.html", form_id=form_id, version=version, definition=None,
                               mistakes=len(error.errors)), 422
    return render_template("form_preview.html", form_id=form_id, version=version, definition=definition,
                           choices=definition.get("choices", {}), mistakes=0)


@bp.route("/forms/<form_id>/preview/check", methods=["POST"])
@roles("admin")
def form_preview_check(form_id):
    """Relevance, calculated values and errors for the answers typed so far (JSON in, JSON out)."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("answers"), dict):
        abort(400)
    try:
        compiled = forms.compile_form(preview_document(form_id, payload.get("version") or None))
    except DefinitionError:
        return jsonify({"ok": False, "relevant": {}, "values": {}, "errors": [], "definition_errors": True}), 422
    lang = current_language()
    result = compiled.validate(payload["answers"], lang=lang)
    return jsonify({"ok": result.ok, "relevant": relevance(compiled, result.answers),
                    "values": {name: value for name, value in result.answers.items() if name in compiled.ignored},
                    "errors": result.errors, "refusal": compiled.is_refusal(result.answers)})


def relevance(compiled, clean_answers):
    """{question name: shown?} evaluated in the engine's order over the cleaned answers."""
    env = compiled.env(clean_answers)
    shown = {}
    for step in compiled.order:
        visible = step.parent is None or shown.get(step.parent, True)
        if visible and step.relevant is not None:
            try:
                visible = to_bool(step.relevant(env))
            except (FormError, ArithmeticError, ValueError, TypeError, RecursionError):
                visible = True
        shown[step.name] = visible
    return shown
