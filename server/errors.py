"""One JSON error shape for every error, with stable error numbers (as Kinto does).

    {"status": 403, "errno": 121, "code": "forbidden", "message": "...", "errors": [
        {"field": "answers.adults", "code": "constraint", "message": "..."}]}
"""
from flask import current_app, jsonify
from pony.orm import rollback
from pony.orm.core import OptimisticCheckError, TransactionIntegrityError, UnrepeatableReadError
from werkzeug.exceptions import HTTPException

from sync.errors import LangsoError

# code -> (errno, HTTP status); errnos never change once released.
ERRORS = {
    "bad_request": (100, 400),
    "invalid": (101, 422),
    "malformed_json": (102, 400),
    "unauthorized": (110, 401),
    "bad_credentials": (111, 401),
    "account_locked": (112, 423),
    "forbidden": (121, 403),
    "csrf_failed": (122, 403),
    "not_found": (130, 404),
    "method_not_allowed": (131, 405),
    "conflict": (140, 409),
    "precondition_failed": (141, 412),
    "breaking_change": (142, 409),
    "concurrent_change": (143, 409),
    "too_large": (150, 413),
    "unsupported_media_type": (151, 415),
    "too_many_requests": (160, 429),
    "unit_import_failed": (170, 422),
    "schema_out_of_date": (990, 503),
    "storage_failed": (991, 503),
    "server_error": (999, 500),
}
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 412: "precondition_failed",
              413: "too_large", 415: "unsupported_media_type", 422: "invalid",
              429: "too_many_requests", 500: "server_error"}


class ApiError(Exception):
    """Raised by views: becomes the JSON error shape with the status its code maps to."""

    def __init__(self, code, message, errors=None, status=None, headers=None):
        super().__init__(message)
        self.code, self.message, self.errors = code, message, list(errors or [])
        self.status = status or ERRORS.get(code, (0, 400))[1]
        self.headers = headers or {}


def error_response(code, message, errors=None, status=None, headers=None):
    """Build the one error payload as a Flask response."""
    errno, default_status = ERRORS.get(code, ERRORS["bad_request"])
    status = status or default_status
    body = {"status": status, "errno": errno, "code": code, "message": message, "errors": errors or []}
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
    message = "the request has invalid fields" if errors else (error.description or error.name)
    return error_response(code, message, errors, status=error.code,
                          headers=dict(getattr(error, "data", {}).get("headers", {}) or {}))


def handle_domain_error(error):
    """Domain exceptions from sync/, forms/, exports/ become HTTP errors here and only here."""
    return error_response(error.code if error.code in ERRORS else "bad_request", error.message, error.errors)


def _rollback():
    """Undo the request's writes before answering (server.db rolls back every handled error again
    once the response is built; doing it here first also frees a transaction the database aborted)."""
    try:
        rollback()
    except Exception:  # noqa: BLE001 - no session, or the connection is gone; nothing to undo then
        pass


def handle_recursion(error):
    """JSON (or XML) nested thousands deep exhausts the parser's stack: the body is refused, not a 500."""
    _rollback()
    return error_response("malformed_json", "the request body is nested too deeply to be read")


def handle_value_error(error):
    """An integer literal longer than Python will convert (see sys.get_int_max_str_digits) is a bad body."""
    if "integer string conversion" in str(error):
        _rollback()
        return error_response("malformed_json", "the request body has a number with too many digits")
    if "cannot contain NUL" in str(error):  # psycopg2 refuses NUL in text before sending anything
        _rollback()
        return error_response("bad_request", "text must not contain NUL (0x00) characters")
    return handle_unexpected(error)


# A write that lost a race with another request: Pony found the rows it read changed, or a row it
# checked was missing had been inserted meanwhile (a unique key). Try again and it is decided.
CONCURRENT_CHANGES = (OptimisticCheckError, UnrepeatableReadError, TransactionIntegrityError)


def handle_concurrent_change(error):
    """A lost race is a 409 (pages show it as a page, through their ApiError handler), never a 500."""
    current_app.logger.warning("a request lost a race with another one: %s", error)
    _rollback()
    return current_app.handle_user_exception(ApiError(
        "concurrent_change", "someone else changed this at the same moment; reload and try again"))


def handle_unexpected(error):  # noqa: ARG001 - logged with its traceback
    """Anything unforeseen: logged, and a 500 in the one shape that leaks nothing."""
    current_app.logger.exception("unhandled error")
    _rollback()
    return error_response("server_error", "internal error; the administrators have been notified")


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
                                                                  e.status, e.headers))
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(LangsoError, handle_domain_error)
    for concurrent_change in CONCURRENT_CHANGES:
        app.register_error_handler(concurrent_change, handle_concurrent_change)
    app.register_error_handler(Exception, handle_unexpected)
