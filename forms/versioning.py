"""Versioning helpers: a content hash, the breaking changes between two versions, next version.

These are pure functions over form documents (raw or loaded); they never raise on
malformed documents, they just see less.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import date
from typing import Any

from .definition import depth, error
from .errors import DefinitionError
from .i18n import N_, translate

MAX_DEPTH = 200


def _nfc(value):
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(str(key)): _nfc(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nfc(item) for item in value]
    return value


def content_hash(doc: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of a document (NFC strings, sorted keys, compact)."""
    if depth(doc, MAX_DEPTH) > MAX_DEPTH:
        raise DefinitionError([error("", "too_deep")])
    text = json.dumps(_nfc(doc), sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _questions(doc):
    """{name: question} for every question and group of a document, nested ones included."""
    found, stack = {}, [doc.get("questions") if isinstance(doc, dict) else None]
    while stack:
        items = stack.pop()
        for question in items if isinstance(items, list) else []:
            if isinstance(question, dict) and isinstance(question.get("name"), str):
                found.setdefault(question["name"], question)
                stack.append(question.get("children"))
    return found


def _choice_names(doc, list_name):
    """The choice names of a list in a document (empty when missing)."""
    lists = doc.get("choices") if isinstance(doc, dict) else None
    items = lists.get(list_name) if isinstance(lists, dict) and isinstance(list_name, str) else None
    return [item["name"] for item in items or [] if isinstance(item, dict) and isinstance(item.get("name"), str)]


MESSAGES = {  # code -> msgid (English) of the one catalogue; the message reads "English — Vietnamese"
    "question_removed": N_("question %(name)r was removed"),
    "type_changed": N_("question %(name)r changed type from %(old)s to %(new)s"),
    "choice_removed": N_("choice %(choice)r of %(name)r was removed"),
}


def _change(field, code, **params):
    en, vi = (translate(MESSAGES[code], lang, **params) for lang in ("en", "vi"))
    return {"field": field, "code": code, "message": f"{en} — {vi}"}


def breaking_changes(old_doc: dict[str, Any], new_doc: dict[str, Any],
                     used_values: dict[str, set] | None = None) -> list[dict[str, Any]]:
    """Changes that could break data collected with `old_doc`: removed questions, changed types,
    removed choices. With `used_values` ({question: set of values}), only removed choices that
    collected data uses are reported."""
    if depth(old_doc, MAX_DEPTH) > MAX_DEPTH or depth(new_doc, MAX_DEPTH) > MAX_DEPTH:
        raise DefinitionError([error("", "too_deep")])
    old, new = _questions(_nfc(old_doc)), _questions(_nfc(new_doc))
    changes = []
    for name, question in old.items():
        if name not in new:
            changes.append(_change(f"questions.{name}", "question_removed", name=name))
        elif question.get("type") != new[name].get("type"):
            changes.append(_change(f"questions.{name}.type", "type_changed", name=name,
                                   old=question.get("type"), new=new[name].get("type")))
        elif str(question.get("type")).startswith("select"):
            changes += _removed_choices(name, question, new[name], old_doc, new_doc, used_values)
    return changes


def _removed_choices(name, old_q, new_q, old_doc, new_doc, used_values):
    """Choices a select question could take before and cannot take now."""
    kept = set(_choice_names(_nfc(new_doc), new_q.get("choices")))
    removed = [c for c in _choice_names(_nfc(old_doc), old_q.get("choices")) if c not in kept]
    if used_values is not None:
        used = {str(v) for v in (used_values.get(name) or ())}
        removed = [c for c in removed if c in used]
    return [_change(f"questions.{name}.choices.{choice}", "choice_removed", choice=choice, name=name)
            for choice in removed]


def next_version(previous_versions: Any, year: Any | None = None) -> str:
    """The next "YEAR.N" version after `previous_versions` (N restarts at 1 each year)."""
    year = str(year or date.today().year)
    numbers = [int(number) for head, _, number in (str(v).partition(".") for v in previous_versions or ())
               if head == year and number.isdigit()]
    return f"{year}.{max(numbers, default=0) + 1}"
