"""Exceptions raised by the store, unit and access layers; the server maps them to HTTP."""


class LangsoError(Exception):
    """Base of our domain errors: a stable `code` and a human message."""
    code = "error"

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])


class NotFound(LangsoError):
    code = "not_found"


class Invalid(LangsoError):
    """Input that breaks a rule; `errors` lists {"field", "code", "message"}."""
    code = "invalid"


class UnitImportError(Invalid):
    """A units CSV with bad lines; nothing was imported."""
    code = "unit_import_failed"


class Conflict(LangsoError):
    code = "conflict"


class StorageFailed(LangsoError):
    """The disk did not keep what was committed: ingest stops until someone looks (HTTP 503)."""
    code = "storage_failed"
