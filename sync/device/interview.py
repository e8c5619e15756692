"""Run a downloaded form on the device with the same engine the server uses (forms/).

`check_answers` validates a whole visit; `Interview` walks the questions one at a time for a
terminal (or any other) front end: it skips what is not relevant, and after each answer it
reports that question's errors (type, constraint, required) in the collector's language,
so a visit is only queued once the server would accept it.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import forms
from forms.evaluate import compile_expression

_COMPILED = {}  # content hash -> CompiledForm
ASKED_TYPES = ("text", "integer", "decimal", "select_one", "select_multiple", "date", "geopoint")


def content_hash(definition: dict[str, Any]) -> Any:
    """The form engine's content hash of a definition (what the manifest lists)."""
    return forms.content_hash(definition)


def compiled(definition: dict[str, Any]) -> Any:
    """The compiled form of a definition, compiled once per content hash."""
    digest = forms.content_hash(definition)
    found = _COMPILED.get(digest)
    if found is None:
        found = _COMPILED[digest] = forms.compile_form(forms.load_form(definition))
    return found


def check_answers(definition: dict[str, Any], answers: dict[str, Any], lang: str = "vi") -> tuple:
    """(clean answers, errors) of one visit validated against `definition`."""
    result = compiled(definition).validate(answers, lang=lang)
    return (dict(result.answers) if result.ok else {}), list(result.errors)


def text(value: Any, lang: str = "vi") -> Any:
    """A multilingual text in `lang`, falling back to Vietnamese, then to any language."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.get(lang) or value.get("vi") or next(iter(value.values()), "")


def flatten(questions: Any, conditions: tuple = ()) -> Iterator[Any]:
    """(question, relevance conditions of it and its enclosing groups) in display order."""
    for question in questions or []:
        own = conditions + ((question["relevant"],) if question.get("relevant") else ())
        if question.get("type") == "group":
            yield from flatten(question.get("children"), own)
        else:
            yield question, own


class Interview:
    """One visit being filled in, question by question."""

    def __init__(self, definition, lang="vi", answers=None):
        self.definition = forms.load_form(definition)
        self.form = compiled(definition)
        self.lang = lang
        self.answers = dict(answers or {})
        self.steps = list(flatten(self.definition["questions"]))

    def choices(self, question: Any) -> list:
        """[(name, label)] of a select question, in the collector's language."""
        return [(c["name"], text(c["label"], self.lang))
                for c in (self.definition.get("choices") or {}).get(question.get("choices"), [])]

    def label(self, question: Any) -> Any:
        """The question's label (and hint), in the collector's language."""
        label = text(question.get("label"), self.lang) or question["name"]
        hint = text(question.get("hint"), self.lang)
        return f"{label} ({hint})" if hint else label

    def environment(self) -> Any:
        """Answers so far as expressions see them, with calculations recomputed by the engine."""
        result = self.form.validate(self.answers, lang=self.lang)
        env = dict(self.answers)
        env.update(result.answers or {})
        return env

    def is_relevant(self, conditions: Any, env: dict[str, Any]) -> bool:
        """Are all relevance conditions (the question's and its groups') true for these answers?"""
        return all(compile_expression(condition).truthy(env) for condition in conditions)

    def questions(self) -> Iterator[Any]:
        """Yield each question to ask now (relevant given the answers so far), in order."""
        for question, conditions in self.steps:
            if question.get("type") not in ASKED_TYPES and question.get("type") != "note":
                continue
            if not self.is_relevant(conditions, self.environment()):
                self.answers.pop(question["name"], None)
                continue
            yield question

    def answer(self, question: Any, raw: Any) -> list:
        """Record an answer; returns this question's error messages (empty when it is accepted)."""
        name = question["name"]
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            self.answers.pop(name, None)
        else:
            self.answers[name] = self.parse(question, raw)
        result = self.form.validate(self.answers, lang=self.lang)
        problems = [e for e in result.errors if e.get("field") == name or e.get("field", "").endswith("." + name)]
        if problems:
            self.answers.pop(name, None)
        return [e.get("message") or e.get("code") for e in problems]

    def parse(self, question: Any, raw: Any) -> Any:
        """Typed text to the JSON value the engine expects; a choice may be given by its number."""
        value = parse_raw(question, raw)
        if question.get("type") not in ("select_one", "select_multiple"):
            return value
        names = [name for name, _ in self.choices(question)]

        def pick(part):
            if part not in names and part.isdigit() and 1 <= int(part) <= len(names):
                return names[int(part) - 1]
            return part

        return [pick(p) for p in value] if isinstance(value, list) else pick(value)

    def result(self) -> Any:
        """(clean answers, errors) of the whole visit."""
        return check_answers(self.definition, self.answers, self.lang)

    def is_refusal(self) -> bool:
        """Did the household decline (consent = no)? Then nothing else is asked or kept."""
        return bool(self.form.is_refusal(self.answers))


def parse_raw(question: Any, raw: Any) -> Any:
    """Turn typed terminal text into the JSON value the engine expects (it coerces the rest)."""
    if question.get("type") == "select_multiple" and isinstance(raw, str):
        return [part for part in raw.replace(",", " ").split() if part]
    return raw.strip() if isinstance(raw, str) else raw
