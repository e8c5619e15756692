"""Domain errors of the store, unit and access layers: the one root lives in forms/errors.py."""
from forms.errors import Conflict, Forbidden, Invalid, LangsoError, NotFound, StorageFailed, UnitImportError  # noqa: F401 - re-exported
