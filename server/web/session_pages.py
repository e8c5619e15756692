"""Signing in and out with a session cookie, choosing the page language, the start page."""
from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from pony.orm import commit

from .. import auth
from ..audit import record
from ..db import get_db
from ..errors import ApiError
from ..security import LOGIN_LIMIT, limiter
from .common import bp, signed_in
from .i18n import LANGUAGES


def safe_next(target):
    """Only a local path may be the page to come back to (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return url_for("web.index")
    return target


@bp.route("/")
def index():
    """Signed-in users start on their dashboard; others on the login page."""
    if g.get("user") is None:
        return redirect(url_for("web.login"))
    if g.user.role == "collector":
        return redirect(url_for("web.submissions"))
    return redirect(url_for("web.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login():
    """The sign-in form; failures are counted (and lock the account) as for API tokens."""
    error = None
    if request.method == "POST":
        db = get_db()
        username = request.form.get("username", "").strip()[:150]
        try:
            user = auth.authenticate(db, username, request.form.get("password", "")[:1024])
        except ApiError as failure:
            record(db, "login_failed", username, {"via": "web"}, actor=username)
            commit()  # failed attempts count although the page is shown again
            error = (_("Too many failed sign-ins; the account is locked for a while.")
                     if failure.code == "account_locked" else _("Wrong username or password."))
        else:
            language = session.get("lang")
            auth.start_session(user)
            if language:
                session["lang"] = language
            record(db, "web_login", user.username, actor=user.username)
            return redirect(safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("login.html", error=error,
                           username=request.form.get("username", "")), status


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    """End the web session (a POST with the CSRF token, so no page can log you out)."""
    record(get_db(), "web_logout", g.user.username)
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    flash(_("You have signed out."), "info")
    return redirect(url_for("web.login"))


@bp.route("/lang/<code>")
def language(code):
    """Switch the page language and come back to the page the link was on."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next")))
