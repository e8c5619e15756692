"""CompiledForm: a loaded form turned into closures and an evaluation order, for fast validation.

Decisions (tested in tests/forms/test_validate.py):
- Answers to questions that are not relevant are DROPPED from the cleaned answers, silently,
  even when they are malformed; this is what ODK does and it means a refusal (consent = no)
  keeps only the consent answer.
- `required` applies only to relevant questions; constraints run only on relevant, non-empty
  answers, after every value (including calculations) is known.
- Client values for calculate questions (and notes) are ignored and recomputed server-side;
  a calculation that is empty, NaN or infinite is left out of the cleaned answers.
- Defaults are hints for the collecting app; the server never fills them in.
- Keys that are not questions give "unknown_field" errors; the whole input may be any JSON
  value and validate() never raises.
"""
from __future__ import annotations

import heapq
import math
from collections import OrderedDict
from typing import Any

from .coerce import COERCERS, MAX_INTEGER, coerce_integer
from .conditions import condition
from .definition import load_form, walk
from .errors import FormError
from .evaluate import compile_expression, to_string
from .indicators import CompiledIndicator, household_values
from .messages import message, pick
from .versioning import content_hash

GROUP, INPUT, CALC, NOTE = range(4)
EVALUATION_ERRORS = (FormError, ArithmeticError, ValueError, TypeError, RecursionError, MemoryError)  # per field
_KINDS = {"group": GROUP, "calculate": CALC, "note": NOTE}


class Result:
    """The outcome of validating one submission: cleaned `answers`, `errors`, `ok` and the expression `view`."""
    __slots__ = ("answers", "errors", "view")

    def __init__(self, answers, errors, view=None):
        self.answers, self.errors, self.view = answers, errors, view

    @property
    def ok(self) -> bool:
        return not self.errors

    def __repr__(self):
        return f"Result(ok={self.ok}, answers={self.answers!r}, errors={self.errors!r})"


class Step:
    """One question or group, with its compiled expressions, in evaluation order."""
    __slots__ = ("name", "kind", "qtype", "parent", "relevant", "calc", "coerce", "choices",
                 "required", "constraint", "constraint_message", "is_list")

    def __init__(self, question, parent, choices):
        self.name, self.qtype, self.parent = question["name"], question["type"], parent
        self.kind = _KINDS.get(self.qtype, INPUT)
        self.relevant = _condition(question.get("relevant"), self.name)
        self.calc = _fn(question.get("calculation"), self.name) if self.kind == CALC else None
        self.constraint = _condition(question.get("constraint"), self.name)
        self.constraint_message = question.get("constraint_message")
        self.coerce = COERCERS.get(self.qtype)
        self.choices = frozenset(item["name"] for item in choices.get(question.get("choices"), ()))
        self.required = bool(question.get("required"))
        self.is_list = self.qtype == "select_multiple"


def _fn(text, current):
    """The compiled closure of an optional expression."""
    return compile_expression(text, current).fn if text else None


def _condition(text, current):
    """The compiled bool-valued closure of an optional condition (relevant, constraint)."""
    return condition(compile_expression(text, current).tree, current) if text else None


def _refs(text, current):
    return compile_expression(text, current).refs if text else frozenset()


class CompiledForm:
    """A form ready to validate submissions and compute per-household indicator values."""

    def __init__(self, definition):
        self.definition = doc = load_form(definition)
        self.id, self.version = doc["id"], doc["version"]
        self.content_hash = content_hash(definition)
        self.consent_field = doc.get("consent_field")
        self.questions = {q["name"]: q for _, q, _ in walk(doc["questions"])}
        steps = {q["name"]: Step(q, parent, doc["choices"]) for _, q, parent in walk(doc["questions"])}
        self.order = [steps[name] for name in _order(doc["questions"])]
        self.inputs = {s.name: s for s in self.order if s.kind == INPUT}
        self.ignored = frozenset(s.name for s in self.order if s.kind in (CALC, NOTE))
        self.constrained = [s for s in self.order if s.constraint is not None]
        self.indicators = [CompiledIndicator(item) for item in doc["indicators"]]
        self.personal_fields = frozenset(n for n, q in self.questions.items() if q.get("personal"))
        # The hot loops read plain tuples (faster than attributes, once per question per household).
        self._coercers = {s.name: (s.coerce, s.choices, s.coerce is coerce_integer) for s in self.inputs.values()}
        self._plan = tuple((s.name, s.kind, s.parent, s.relevant, s.is_list, s.required, s) for s in self.order)
        self._constraints = tuple((s.name, s.constraint, s.constraint_message) for s in self.constrained)
        self._pairs = tuple(i.pair for i in self.indicators)

    def validate(self, answers: dict[str, Any], lang: str = "vi") -> Result:
        """Validate and clean one submission (any JSON value); never raises."""
        if type(answers) is not dict:
            return Result({}, [_error(None, "invalid_submission", lang)])
        errors, coerced, problems = [], {}, {}
        coercers = self._coercers
        for key, raw in answers.items():
            found = coercers.get(key) if type(key) is str else None
            if found is None:
                if key not in self.ignored:
                    errors.append(_error(str(key)[:100], "unknown_field", lang))
            elif found[2] and type(raw) is int and -MAX_INTEGER <= raw <= MAX_INTEGER:  # coerce_integer, inlined
                coerced[key] = raw
            elif not (raw is None or (type(raw) is str and not raw.strip()) or (type(raw) is list and not raw)):
                value, problem = found[0](raw, found[1])  # is_empty() above, inlined
                if problem is None:
                    coerced[key] = value
                else:
                    problems[key] = problem
        clean, view, relevant = self._evaluate(coerced, problems, errors, lang)
        self._check_constraints(view, relevant, errors, lang)
        return Result(clean, errors, view)

    def _evaluate(self, coerced, problems, errors, lang):
        """Walk the evaluation order: relevance, calculations, required and type errors.

        Returns the cleaned answers, their expression view (select_multiple answers as
        strings, calculations as computed) and which questions are relevant.
        """
        view, relevant, clean = {}, {}, {}
        for name, kind, parent, condition_fn, is_list, required, step in self._plan:
            ok = parent is None or relevant[parent]
            if ok and condition_fn is not None:
                try:  # an evaluation failure is reported on the field, which then counts as not relevant
                    ok = condition_fn(view)
                except EVALUATION_ERRORS:
                    errors.append(_error(name, "evaluation_error", lang))
                    ok = False
            relevant[name] = ok
            if not ok or kind in (GROUP, NOTE):
                continue
            if kind == CALC:
                _calculate(step, view, errors, lang)
                if name in view:
                    clean[name] = _clean_calc(view[name])
                continue
            value = coerced.get(name)
            if value is not None:
                clean[name] = value
                view[name] = " ".join(value) if is_list else value
            elif name in problems:
                errors.append(_error(name, problems[name], lang))
            elif required:
                errors.append(_error(name, "required", lang))
        return clean, view, relevant

    def _check_constraints(self, view, relevant, errors, lang):
        """Run constraints on relevant answered questions, with the form's message if any."""
        for name, test, custom_message in self._constraints:
            if name not in view or not relevant[name]:
                continue
            try:
                holds = test(view)
            except EVALUATION_ERRORS:
                errors.append(_error(name, "evaluation_error", lang))
                continue  # reported once, as an evaluation error
            if not holds:
                text = pick(custom_message, lang) if custom_message else message("constraint", lang)
                errors.append({"field": name, "code": "constraint", "message": text})

    def env(self, clean: Any) -> dict:
        """The expression view of cleaned answers (select_multiple lists as strings)."""
        return {k: (" ".join(v) if type(v) is list else v) for k, v in clean.items()}

    def is_refusal(self, answers: dict[str, Any]) -> bool:
        """Whether the household refused (consent_field answered 'no'); False without consent_field."""
        return bool(self.consent_field) and isinstance(answers, dict) and answers.get(self.consent_field) == "no"

    def indicator_values(self, clean_answers: Any, view: Any | None = None) -> Any:
        """{indicator id: (numerator, denominator)} for one cleaned household; {} for a refusal.

        `view` may pass the Result.view of the validation that gave these answers, saving its rebuild.
        """
        if not isinstance(clean_answers, dict) or self.is_refusal(clean_answers):
            return {}
        env = self.env(clean_answers) if view is None else view
        return household_values(self._pairs, env)

    def label(self, name: str, lang: str = "vi") -> Any:
        """The label of a question in `lang` (fallback vi), or the name."""
        question = self.questions.get(name) or {}
        return pick(question.get("label"), lang) or name

    def __repr__(self):
        return f"<CompiledForm {self.id} {self.version}>"


def _order(questions):
    """Question and group names in document order, except that dependencies always come first."""
    items = [(q["name"], q, parent) for _, q, parent in walk(questions)]
    index = {name: i for i, (name, _, _) in enumerate(items)}
    waiting, users = {}, {}
    for name, question, parent in items:
        deps = set(_refs(question.get("relevant"), name)) | set(_refs(question.get("calculation"), name))
        deps = {d for d in deps | ({parent} if parent else set()) if d in index and d != name}
        waiting[name] = len(deps)
        for dep in deps:
            users.setdefault(dep, []).append(name)
    ready = [index[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        name = items[heapq.heappop(ready)][0]
        order.append(name)
        for user in users.get(name, ()):
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, index[user])
    return order


def _calculate(step, env, errors, lang):
    """Compute a calculation into env unless it is empty or not finite."""
    try:
        value = step.calc(env)
    except EVALUATION_ERRORS:
        errors.append(_error(step.name, "evaluation_error", lang))
        return
    if type(value) is bool:
        value = to_string(value)
    if value == "" or (type(value) is float and not math.isfinite(value)):
        return
    env[step.name] = value


def _clean_calc(value):
    """JSON form of a calculated value: integral floats become int."""
    return int(value) if type(value) is float and value.is_integer() else value


def _error(field, code, lang):
    return {"field": field, "code": code, "message": message(code, lang)}


_CACHE = OrderedDict()
CACHE_SIZE = 64


def compile_form(definition: dict[str, Any] | CompiledForm) -> CompiledForm:
    """A CompiledForm for a form document, cached by content hash (so per id and version)."""
    if isinstance(definition, CompiledForm):
        return definition
    key = content_hash(definition)
    form = _CACHE.get(key)
    if form is None:
        form = _CACHE[key] = CompiledForm(definition)
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return form
