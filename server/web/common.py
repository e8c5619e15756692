"""What every page shares: the `web` blueprint, sign-in and role guards, scope checks, HTML errors."""
import functools

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from sync import access
from sync.errors import LangsoError, NotFound

from ..db import get_db
from ..errors import ApiError, message_of

bp = Blueprint("web", __name__)

# ApiError / domain error codes -> HTTP status for pages
PAGE_STATUS = {"unauthorized": 401, "forbidden": 403, "csrf_failed": 400, "not_found": 404,
               "too_many_requests": 429}


def signed_in(view):
    """Send anonymous visitors to the login page, coming back here afterwards."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("web.login", next=request.full_path if request.args else request.path))
        return view(*args, **kwargs)
    return wrapped


def roles(*allowed):
    """Signed-in users whose role is one of `allowed`; everyone else gets the 403 page."""
    def decorate(view):
        @functools.wraps(view)
        @signed_in
        def wrapped(*args, **kwargs):
            if g.user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def unit_in_scope(code, action="read"):
    """The unit with `code` if the user may `action` it; 404 when unknown, 403 when outside scope."""
    unit = get_db().Unit.get(code=str(code))
    if unit is None:
        abort(404)
    if not access.may(g.user, action, unit):
        abort(403)
    return unit


def home_unit(user):
    """The unit a user's dashboard opens on: the highest unit of their scope (the province for admins)."""
    if user.role == "admin":
        root = get_db().Unit.select(lambda u: u.parent is None).order_by(lambda u: u.code).first()
        if root is not None:
            return root
    scope = sorted(user.scope, key=lambda u: (u.depth, u.code))
    return scope[0] if scope else None


def form_errors(error):
    """A domain error's field errors, or one error holding its message."""
    if isinstance(error, LangsoError) and error.errors:
        return error.errors
    return [{"field": None, "code": getattr(error, "code", "invalid"), "message": message_of(error)}]


def error_page(status, message=None):
    """The HTML error page with a translated explanation."""
    titles = {400: _("The request could not be processed"), 401: _("Please sign in"),
              403: _("You do not have access to this page"), 404: _("Page not found"),
              405: _("This action is not allowed here"), 409: _("Changed by someone else"),
              413: _("The file is too large"),
              429: _("Too many attempts; wait a minute and try again")}
    title = titles.get(status, _("Something went wrong"))
    return render_template("error.html", status=status, title=title, message=message), status


@bp.app_errorhandler(403)
def _forbidden_page(error):
    """HTML 403 for pages; the JSON API keeps its own error shape."""
    return _html_or_json(error, 403)


@bp.app_errorhandler(404)
def _not_found_page(error):
    return _html_or_json(error, 404)


def _html_or_json(error, status):
    """Pages get HTML, the API and anything under /api/ the one JSON shape."""
    from ..errors import handle_http_exception
    if request.path.startswith("/api/"):
        return handle_http_exception(error)
    return error_page(status)


def page_domain_error(error):
    """A domain error raised while rendering a page, shown as a page."""
    status = 404 if isinstance(error, NotFound) else 400
    return error_page(status, message_of(error))


def page_api_error(error):
    """An ApiError (e.g. a failed CSRF check) inside the web blueprint, shown as a page."""
    if error.code == "concurrent_change":
        return error_page(409, _("Someone else changed this at the same moment; reload the page and try again."))
    return error_page(PAGE_STATUS.get(error.code, error.status), message_of(error))


bp.register_error_handler(LangsoError, page_domain_error)
bp.register_error_handler(ApiError, page_api_error)


def page_csrf_error(error):
    """A form sent without a valid CSRF token is refused with a page, and nothing is changed."""
    return error_page(403, _("The form expired or did not come from this site; reload the page and try again."))


from flask_wtf.csrf import CSRFError  # noqa: E402 - kept beside its handler

bp.register_error_handler(CSRFError, page_csrf_error)
