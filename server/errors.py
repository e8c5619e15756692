"""One JSON error shape for every error, with stable error numbers (as Kinto does).

    {"status": 403, "errno": 121, "code": "forbidden", "message": "...", "errors": [
        {"field": "answers.adults", "code": "constraint", "message": "..."}]}
"""
import contextlib
from typing import NamedTuple

from flask import current_app, has_request_context, jsonify
from flask_babel import get_locale
from pony.orm import rollback
from pony.orm.core import OptimisticCheckError, TransactionIntegrityError, UnrepeatableReadError
from werkzeug.exceptions import HTTPException

from forms.errors import LangsoError
from forms.i18n import N_, language, translate


# The one table of error codes: code -> (errno, HTTP status, default message). Every domain error's
# `code` is here (tests/test_errors.py checks it); errnos never change once released.
class ErrorCode(NamedTuple):
    errno: int
    status: int
    message: str


ERRORS = {
    "bad_request": ErrorCode(100, 400, N_("the request is not valid")),
    "invalid": ErrorCode(101, 422, N_("the request has invalid fields")),
    "malformed_json": ErrorCode(102, 400, N_("the request body is not valid JSON")),
    "error": ErrorCode(103, 400, N_("the request cannot be carried out")),
    "unauthorized": ErrorCode(110, 401, N_("sign in first")),
    "bad_credentials": ErrorCode(111, 401, N_("wrong username or password")),
    # retired: accounts no longer lock (issue 16); the errno stays reserved, never reused
    "account_locked": ErrorCode(112, 423, N_("this account is locked for a while after too many failed sign-ins")),
    "forbidden": ErrorCode(121, 403, N_("you may not do this")),
    "csrf_failed": ErrorCode(122, 403, N_("the form expired; reload the page and try again")),
    "not_found": ErrorCode(130, 404, N_("not found")),
    "method_not_allowed": ErrorCode(131, 405, N_("this method is not allowed here")),
    "conflict": ErrorCode(140, 409, N_("this conflicts with what the server holds")),
    "precondition_failed": ErrorCode(141, 412, N_("the resource changed since you read it")),
    "breaking_change": ErrorCode(142, 409, N_("this change would break data already collected")),
    "concurrent_change": ErrorCode(143, 409, N_("someone else changed this at the same moment; reload and try again")),
    "too_large": ErrorCode(150, 413, N_("the request is too large")),
    "unsupported_media_type": ErrorCode(151, 415, N_("this content type is not accepted")),
    "too_many_requests": ErrorCode(160, 429, N_("too many requests; wait a moment and try again")),
    "unit_import_failed": ErrorCode(170, 422, N_("the units file has errors; nothing was imported")),
    "form_error": ErrorCode(180, 400, N_("the form cannot be used")),
    "expression_error": ErrorCode(181, 400, N_("the expression cannot be read")),
    "evaluation_error": ErrorCode(182, 400, N_("An expression of this question could not be evaluated")),
    "definition_error": ErrorCode(183, 422, N_("the form definition has errors")),
    "xform_error": ErrorCode(184, 400, N_("the form cannot be rendered as an XForm")),
    "xlsform_invalid": ErrorCode(185, 422, N_("the XLSForm cannot be imported")),
    "schema_out_of_date": ErrorCode(990, 503, N_("the database schema is older than this release; "
                                                 "run langso db upgrade")),
    "storage_failed": ErrorCode(991, 503, N_("the server could not store data safely; "
                                             "ingest is stopped until an administrator checks the disk")),
    "backup_failed": ErrorCode(992, 500, N_("the backup or restore failed")),
    "server_error": ErrorCode(999, 500, N_("internal error; the administrators have been notified")),
}
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 412: "precondition_failed",
              413: "too_large", 415: "unsupported_media_type", 422: "invalid",
              429: "too_many_requests", 500: "server_error"}


class ApiError(Exception):
    """Raised by views: becomes the JSON error shape with the status its code maps to.

    `message` is a msgid of the catalogue (English) with `params`; it is rendered in the reader's
    language when the response is built."""

    def __init__(self, code, message, errors=None, status=None, headers=None, **params):
        super().__init__(message)
        self.code, self.message, self.errors = code, message, list(errors or [])
        self.params = params
        self.status = status or ERRORS.get(code, (0, 400))[1]
        self.headers = headers or {}

    def render(self, lang):
        return translate(self.message, lang, **self.params)


def reader_language():
    """The language of the current request's reader (flask-babel's choice; Vietnamese outside a request)."""
    if not has_request_context():
        return language(None)
    return str(get_locale() or language(None))


def message_of(error, lang=None):
    """The message of an ApiError or a domain error in the reader's language."""
    return error.render(lang or reader_language())


def error_response(code, message, errors=None, status=None, headers=None, **params):
    """Build the one error payload as a Flask response; `message` (a msgid) is rendered in the reader's language."""
    errno, default_status = ERRORS.get(code, ERRORS["bad_request"])[:2]
    status = status or default_status
    text = translate(message, reader_language(), **params)
    body = {"status": status, "errno": errno, "code": code, "message": text, "errors": errors or []}
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(messages, prefix=""):
    """Flatten marshmallow/webargs messages ({"json": {"a": ["..."]}}) into field-path errors."""
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            if key in ("json", "query", "form", "headers", "files", "view_args") and not prefix:
                out += field_errors(value, "")
            else:
                out += field_errors(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"field": prefix or None, "code": "invalid", "message": m} for m in messages]
    if isinstance(messages, list):
        return [e for m in messages for e in field_errors(m, prefix)]
    return [{"field": prefix or None, "code": "invalid", "message": str(messages)}]


def handle_http_exception(error):
    """Werkzeug and flask-smorest aborts become the one shape."""
    code = HTTP_CODES.get(error.code, "bad_request" if error.code < 500 else "server_error")
    messages = getattr(error, "data", {}).get("messages") if hasattr(error, "data") else None
    errors = field_errors(messages) if messages else []
    message = ERRORS["invalid"].message if errors else _http_message(error, code)
    return error_response(code, message, errors, status=error.code,
                          headers=dict(getattr(error, "data", {}).get("headers", {}) or {}))


def _http_message(error, code):
    """Werkzeug's standard (English) descriptions become the code's catalogue message; a description a
    view wrote itself (abort(404, "...")) is kept, as a msgid."""
    default = type(error).description
    if error.description and error.description != default:
        return error.description
    return ERRORS[code].message if code in ERRORS else (error.description or error.name)


def handle_domain_error(error):
    """Domain exceptions from sync/, forms/, exports/ become HTTP errors here and only here."""
    lang = reader_language()
    return error_response(error.code if error.code in ERRORS else "bad_request", error.render(lang), error.errors)


def _rollback():
    """Undo the request's writes before answering (server.db rolls back every handled error again
    once the response is built; doing it here first also frees a transaction the database aborted)."""
    with contextlib.suppress(Exception):  # no session, or the connection is gone: nothing to undo then
        rollback()


def handle_recursion(error):
    """JSON (or XML) nested thousands deep exhausts the parser's stack: the body is refused, not a 500."""
    _rollback()
    return error_response("malformed_json", N_("the request body is nested too deeply to be read"))


def handle_value_error(error):
    """An integer literal longer than Python will convert (see sys.get_int_max_str_digits) is a bad body."""
    if "integer string conversion" in str(error):
        _rollback()
        return error_response("malformed_json", N_("the request body has a number with too many digits"))
    if "cannot contain NUL" in str(error):  # psycopg2 refuses NUL in text before sending anything
        _rollback()
        return error_response("bad_request", N_("text must not contain NUL (0x00) characters"))
    return handle_unexpected(error)


# A write that lost a race with another request: Pony found the rows it read changed, or a row it
# checked was missing had been inserted meanwhile (a unique key). Try again and it is decided.
CONCURRENT_CHANGES = (OptimisticCheckError, UnrepeatableReadError, TransactionIntegrityError)


def handle_concurrent_change(error):
    """A lost race is a 409 (pages show it as a page, through their ApiError handler), never a 500."""
    current_app.logger.warning("a request lost a race with another one: %s", error)
    _rollback()
    return current_app.handle_user_exception(ApiError(
        "concurrent_change", ERRORS["concurrent_change"].message))


def handle_unexpected(error):  # noqa: ARG001 - logged with its traceback
    """Anything unforeseen: logged, and a 500 in the one shape that leaks nothing."""
    current_app.logger.exception("unhandled error")
    _rollback()
    return error_response("server_error", ERRORS["server_error"].message)


MAX_ROW_ID = 2 ** 63 - 1  # the largest id a BIGINT column holds; larger numbers in a URL are a bad request


def refuse_big_path_integers(endpoint, values):  # noqa: ARG001 - Flask's url_value_preprocessor signature
    """An <int:...> in a path past any row id (/submissions/99999999999999999999) is a 400, never a 500."""
    for name, value in (values or {}).items():
        if type(value) is int and not 0 <= value <= MAX_ROW_ID:
            raise ApiError("bad_request", f"{name} is out of range",
                           [{"field": name, "code": "out_of_range", "message": f"at most {MAX_ROW_ID}"}])


def init_app(app):
    """Register the handlers that give every error the same JSON shape."""
    app.url_value_preprocessor(refuse_big_path_integers)
    app.register_error_handler(RecursionError, handle_recursion)
    app.register_error_handler(ValueError, handle_value_error)
    app.register_error_handler(ApiError, lambda e: error_response(e.code, e.message, e.errors,
                                                                  e.status, e.headers, **e.params))
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(LangsoError, handle_domain_error)
    for concurrent_change in CONCURRENT_CHANGES:
        app.register_error_handler(concurrent_change, handle_concurrent_change)
    app.register_error_handler(Exception, handle_unexpected)
