"""Users and units (admin): create and disable accounts, set role and scope, reset passwords, import villages."""
import secrets

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pony.orm import count, select

from sync.accounts import AccountError, create_user, revoke_tokens, role_scope, set_password
from sync.errors import Invalid, UnitImportError
from sync.store import ROLES
from sync.units import import_units

from ..audit import record
from ..db import get_db
from ..errors import message_of
from .common import bp, roles

MAX_CSV_BYTES = 5 * 1024 * 1024


def scope_codes(text):
    """Unit codes typed with commas or spaces between them."""
    return [code for code in text.replace(",", " ").split() if code]


def users_page(status=200, **extra):
    """The users list with the create form (and any result of the last action)."""
    db = get_db()
    rows = list(db.User.select().order_by(lambda u: u.username))
    values = {"username": "", "display_name": "", "role": "collector", "scope": ""}
    values.update(extra.pop("values", {}))
    return render_template("users.html", rows=rows, roles_list=ROLES, values=values, **extra), status


@bp.route("/users")
@roles("admin")
def users():
    """Every account with its role, scope and state."""
    return users_page()


@bp.route("/users", methods=["POST"])
@roles("admin")
def user_create():
    """Create an account; the rules (scope level fits the role, password length) are sync.accounts'."""
    db = get_db()
    form = request.form
    values = {k: form.get(k, "").strip() for k in ("username", "display_name", "role", "scope")}
    try:
        user = create_user(db, values["username"], values["role"], scope_codes(values["scope"]),
                           form.get("password", ""), values["display_name"])
    except AccountError as error:
        return users_page(422, values=values, error=message_of(error))
    record(db, "user_created", user.username, {"role": user.role, "scope": scope_codes(values["scope"]),
                                                "via": "web"})
    flash(_("Account %(name)s created.", name=user.username), "success")
    return redirect(url_for("web.users"))


def get_user(user_id):
    """The account to change, locked until this request ends: two admins' changes apply one after the other."""
    user = get_db().User.get_for_update(id=user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles("admin")
def user_active(user_id):
    """Disable an account (revoking its tokens and sessions) or enable it again."""
    user = get_user(user_id)
    if user.id == g.user.id:
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for("web.users"))
    user.active = request.form.get("active") == "1"
    if not user.active:
        revoke_tokens(get_db(), user)  # API and device tokens and web sessions: enabling again revives none
    record(get_db(), "user_enabled" if user.active else "user_disabled", user.username, {"via": "web"})
    flash(_("Account %(name)s enabled.", name=user.username) if user.active
          else _("Account %(name)s disabled.", name=user.username), "success")
    return redirect(url_for("web.users"))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@roles("admin")
def user_role(user_id):
    """Give an account another role and scope (checked as at creation)."""
    db = get_db()
    user = get_user(user_id)
    role, codes = request.form.get("role", ""), scope_codes(request.form.get("scope", ""))
    try:
        units = role_scope(db, role, codes)
    except Invalid as error:
        return users_page(422, error=f"{user.username}: {message_of(error)}")
    user.role, user.scope = role, units
    record(db, "user_scope_set", user.username, {"role": role, "scope": codes, "via": "web"})
    flash(_("Role and scope of %(name)s changed.", name=user.username), "success")
    return redirect(url_for("web.users"))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@roles("admin")
def user_password(user_id):
    """Give an account a new random password, shown once on this page (never put in a cookie).

    Every API token, device token and web session of the account is revoked.
    """
    user = get_user(user_id)
    password = secrets.token_urlsafe(9)
    revoked = set_password(get_db(), user, password)
    record(get_db(), "password_reset", user.username, {"via": "web", "revoked": revoked})
    return users_page(new_password={"username": user.username, "password": password})


@bp.route("/units", methods=["GET", "POST"])
@roles("admin")
def units():
    """Upload a CSV of villages (code,name,level,parent_code[,expected_households,kind]); every bad line is shown."""
    db = get_db()
    errors, report = [], None
    if request.method == "POST":
        upload = request.files.get("file")
        raw = upload.read(MAX_CSV_BYTES + 1) if upload else b""
        if not raw:
            errors = [{"line": None, "field": "file", "message": _("Choose a CSV file to upload.")}]
        elif len(raw) > MAX_CSV_BYTES:
            errors = [{"line": None, "field": "file", "message": _("The file is too large.")}]
        else:
            errors, report = import_csv(db, raw)
    counts = [(level, number) for level, _depth, number in
              sorted(select((u.level, min(u.depth), count()) for u in db.Unit), key=lambda row: row[1])]
    return render_template("units.html", errors=errors, report=report, counts=counts), 422 if errors else 200


def import_csv(db, raw):
    """(errors, report) of importing uploaded CSV bytes (UTF-8), all or nothing."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [{"line": None, "field": "file", "message": _("The file is not UTF-8 text.")}], None
    try:
        report = import_units(db, text)
    except UnitImportError as error:
        return error.errors, None
    record(db, "units_imported", None, {"created": len(report.created), "updated": len(report.updated),
                                        "via": "web"})
    return [], report

