"""The one root of langso's domain errors, in the lowest layer (forms/); sync/ and exports/ re-use it.

Every domain error has a stable `code` (server/errors.py's ERRORS table maps each code to an
errno and an HTTP status), a msgid with parameters (rendered in the reader's language where
it is shown: `error.render("vi")`; `error.message` is the English text, for logs) and an
`errors` list of {"field", "code", "message"}. Only server/ turns them into HTTP.
"""
from __future__ import annotations

from typing import Any

from .i18n import N_, translate


class LangsoError(Exception):
    """Base of every error langso raises on purpose."""
    code = "error"
    msgid = N_("the request cannot be carried out")

    def __init__(self, msgid=None, errors=None, **params):
        self.msgid = msgid or type(self).msgid
        self.params = params
        self.errors = list(errors or [])
        self._message = None
        super().__init__(self.msgid)

    def render(self, lang: str) -> Any:
        """The message in `lang` (Vietnamese when langso does not speak it)."""
        if self._message is not None:
            return self._message
        return translate(self.msgid, lang, **self.params)

    @property
    def message(self) -> Any:
        """The English text (what logs and developers read)."""
        return self.render("en")

    @message.setter
    def message(self, text: str) -> None:
        self._message = text

    def __str__(self):
        return self.message


class FormError(LangsoError):
    """Base of every error the form engine raises on purpose."""
    code = "form_error"
    msgid = N_("the form cannot be used")


class ExpressionError(FormError):
    """An expression that cannot be parsed or compiled; `position` is a 0-based char offset."""
    code = "expression_error"
    msgid = N_("the expression cannot be read")

    def __init__(self, message, position=0, expression=None):
        self.reason = message
        self.position = position
        self.expression = expression
        super().__init__(N_("%(reason)s (at position %(position)s)"), reason=message, position=position)


class EvaluationError(FormError):
    """An expression that failed while being evaluated (e.g. a regex built at run time is invalid)."""
    code = "evaluation_error"
    msgid = N_("An expression of this question could not be evaluated")


class DefinitionError(FormError):
    """A form definition with mistakes; `errors` lists every {"field", "code", "message"} at once."""
    code = "definition_error"

    def __init__(self, errors):
        errors = list(errors)
        super().__init__(N_("the form definition has %(count)s error(s)"), errors, count=len(errors))


class NotFound(LangsoError):
    code = "not_found"
    msgid = N_("not found")


class Invalid(LangsoError):
    """Input that breaks a rule; `errors` lists {"field", "code", "message"}."""
    code = "invalid"
    msgid = N_("the request has invalid fields")


class UnitImportError(Invalid):
    """A units CSV with bad lines; nothing was imported."""
    code = "unit_import_failed"


class Conflict(LangsoError):
    code = "conflict"
    msgid = N_("this conflicts with what the server holds")


class Forbidden(LangsoError):
    """The caller's role or scope does not allow this."""
    code = "forbidden"
    msgid = N_("you may not do this")


class StorageFailed(LangsoError):
    """The disk did not keep what was committed: ingest stops until someone looks (HTTP 503)."""
    code = "storage_failed"
    msgid = N_("the server could not store data safely; ingest is stopped until an administrator checks the disk")


def domain_errors() -> Any:
    """Every LangsoError subclass loaded so far (for the errno table's completeness test)."""
    found, stack = [], [LangsoError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found
