"""Exceptions of the form engine; each has a stable `code`, a `message` and an `errors` list.

The shape mirrors the rest of langso (code, message, errors) so callers can map any
FormError to an API error without knowing which subclass it is.
"""


class FormError(Exception):
    """Base of every error the form engine raises on purpose."""
    code = "form_error"

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])


class ExpressionError(FormError):
    """An expression that cannot be parsed or compiled; `position` is a 0-based char offset."""
    code = "expression_error"

    def __init__(self, message, position=0, expression=None):
        super().__init__(f"{message} (at position {position})")
        self.reason = message
        self.position = position
        self.expression = expression


class EvaluationError(FormError):
    """An expression that failed while being evaluated (e.g. a regex built at run time is invalid)."""
    code = "evaluation_error"


class DefinitionError(FormError):
    """A form definition with mistakes; `errors` lists every {"path", "code", "message"} at once."""
    code = "definition_error"

    def __init__(self, errors):
        errors = list(errors)
        super().__init__(f"the form definition has {len(errors)} error(s)", errors)
