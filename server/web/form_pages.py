"""Forms (admin): list forms and versions, edit the draft as text, validate on demand, publish, archive."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from sync import form_versions
from sync.errors import Conflict, Invalid

from ..audit import record
from ..db import get_db
from ..errors import message_of
from . import draft_text
from .common import bp, form_errors, roles
from .i18n import current_language


@bp.route("/forms")
@roles("admin")
def forms():
    """Every form with its draft state and published versions."""
    db = get_db()
    rows = [{"form": f, "latest": form_versions.latest_version(db, f.form_id),
             "versions": list(f.versions.order_by(lambda v: -v.seq))}
            for f in db.Form.select().order_by(lambda f: f.form_id)]
    return render_template("forms.html", rows=rows, text=request.form.get("text", ""), errors=[])


@bp.route("/forms/new", methods=["POST"])
@roles("admin")
def form_create():
    """Create a form from a valid definition pasted as YAML or JSON."""
    db = get_db()
    text = request.form.get("text", "")
    doc, errors = draft_text.parse(text)
    if doc is not None:
        errors = draft_text.definition_errors(doc, text, current_language())
    if not errors:
        try:
            form = form_versions.create_form(db, doc)
        except (Conflict, Invalid) as error:
            errors = draft_text.located(form_errors(error), text)
        else:
            record(db, "form_created", form.form_id)
            flash(_("Form %(id)s created; its draft is ready to edit.", id=form.form_id), "success")
            return redirect(url_for("web.form_edit", form_id=form.form_id))
    rows = [{"form": f, "latest": form_versions.latest_version(db, f.form_id),
             "versions": list(f.versions.order_by(lambda v: -v.seq))}
            for f in db.Form.select().order_by(lambda f: f.form_id)]
    return render_template("forms.html", rows=rows, text=text, errors=errors), 422


@bp.route("/forms/<form_id>")
@roles("admin")
def form_edit(form_id):
    """The draft editor with its versions; errors are shown only when asked for (validate/save)."""
    form = form_versions.get_form(get_db(), form_id)
    fmt = request.args.get("format") if request.args.get("format") in draft_text.FORMATS else "yaml"
    return editor(form, draft_text.to_text(form.draft, fmt), fmt)


def editor(form, text, fmt, errors=None, checked=False, breaking=None, status=200):
    """Render the editor page with the given text and findings."""
    versions = list(form.versions.order_by(lambda v: -v.seq))
    return render_template("form_edit.html", form=form, text=text, fmt=fmt, errors=errors or [],
                           checked=checked, breaking=breaking or [], versions=versions), status


@bp.route("/forms/<form_id>/draft", methods=["POST"])
@roles("admin")
def form_draft(form_id):
    """action=validate checks the text; save keeps it as the draft (even when invalid); publish saves then publishes."""
    db = get_db()
    form = form_versions.get_form(db, form_id)
    text, fmt = request.form.get("text", ""), request.form.get("format", "yaml")
    action = request.form.get("action", "validate")
    doc, errors = draft_text.parse(text)
    if doc is not None:
        errors = draft_text.definition_errors(doc, text, current_language())
    if action == "validate":
        return editor(form, text, fmt, errors, checked=True, status=422 if errors else 200)
    if doc is None:
        flash(_("Not saved: the text is not valid YAML or JSON."), "error")
        return editor(form, text, fmt, errors, checked=True, status=422)
    try:
        form_versions.save_draft(db, form_id, doc)
    except Invalid as error:
        return editor(form, text, fmt, draft_text.located(form_errors(error), text), True, status=422)
    record(db, "draft_saved", form_id, {"errors": len(errors), "via": "web"})
    if action.startswith("publish") and not errors:
        return publish_draft(form, text, fmt, confirm=action == "publish_confirmed")
    if action.startswith("publish"):
        flash(_("Draft saved but not published: correct the %(n)s mistake(s) first.", n=len(errors)), "error")
    else:
        flash(_("Draft saved with %(n)s mistake(s).", n=len(errors)) if errors else _("Draft saved."),
              "warning" if errors else "success")
    return editor(form, text, fmt, errors, checked=True, status=422 if errors else 200)


def publish_draft(form, text, fmt, confirm):
    """Publish the saved draft; breaking changes are listed and need an explicit confirmation."""
    db = get_db()
    try:
        version = form_versions.publish(db, form.form_id, g.user.username, confirm,
                                        used_values=form_versions.used_choice_values(db, form.form_id))
    except form_versions.BreakingChange as error:
        flash(_("Publishing would break data already collected. Read the changes and confirm."), "warning")
        return editor(form, text, fmt, breaking=draft_text.located(error.errors, text), status=409)
    except (Invalid, Conflict) as error:
        flash(_("Not published: %(reason)s", reason=message_of(error)), "error")
        return editor(form, text, fmt, draft_text.located(form_errors(error), text), True, status=422)
    record(db, "form_published", f"{form.form_id}@{version.version}",
           {"content_hash": version.content_hash, "confirmed_breaking": confirm, "via": "web"})
    flash(_("Version %(v)s of %(id)s published.", v=version.version, id=form.form_id), "success")
    return redirect(url_for("web.form_edit", form_id=form.form_id))


@bp.route("/forms/<form_id>/archive", methods=["POST"])
@roles("admin")
def form_archive(form_id):
    """Close a form to new submissions; its data stays in the reports."""
    db = get_db()
    form_versions.archive(db, form_id)
    record(db, "form_archived", form_id, {"via": "web"})
    flash(_("Form %(id)s archived.", id=form_id), "success")
    return redirect(url_for("web.forms"))


@bp.route("/forms/<form_id>/versions/<version>")
@roles("admin")
def form_version(form_id, version):
    """A published version, read-only, as text."""
    found = form_versions.get_version(get_db(), form_id, version)
    fmt = request.args.get("format") if request.args.get("format") in draft_text.FORMATS else "yaml"
    return render_template("form_version.html", version=found, fmt=fmt,
                           text=draft_text.to_text(found.definition, fmt))
