"""Built-in submission error messages: msgids of the one catalogue (forms/i18n.py); other languages read vi."""
from __future__ import annotations

from typing import Any

from .i18n import N_, translate

MESSAGES = {  # code -> msgid (English); translations in forms/translations
    "required": N_("This question is required"),
    "constraint": N_("The value is not allowed"),
    "invalid_text": N_("The answer must be text"),
    "too_long": N_("The answer is too long"),
    "invalid_integer": N_("The answer must be a whole number"),
    "invalid_decimal": N_("The answer must be a number"),
    "out_of_range": N_("The number is too large or not valid"),
    "invalid_choice": N_("The choice is not in the list"),
    "invalid_choices": N_("The choices must be a list"),
    "invalid_date": N_("Not a valid date (YYYY-MM-DD)"),
    "invalid_geopoint": N_("Not a valid location (latitude longitude)"),
    "unknown_field": N_("This field is not in the form"),
    "invalid_submission": N_("The submission must be a JSON object"),
    "evaluation_error": N_("An expression of this question could not be evaluated"),
}


def pick(texts: Any, lang: str) -> Any:
    """The text for `lang` from a multilingual dict, falling back to vi, then to any text."""
    if not texts:
        return ""
    if not isinstance(lang, str):
        lang = "vi"
    return texts.get(lang) or texts.get("vi") or next(iter(texts.values()), "")


def message(code: str, lang: str = "vi") -> Any:
    """A built-in message for an error code in `lang` (fallback vi)."""
    return translate(MESSAGES.get(code) or MESSAGES["constraint"], lang if isinstance(lang, str) else "vi")
