"""Load a form document: NFC-normalise, check its shape and its cross-references, all at once.

`load_form(doc)` returns the normalised document (defaults filled in) or raises
DefinitionError listing every mistake as {"field", "code", "message", "message_vi"}, with
fields such as "questions[3].children[1].constraint". Checks are defensive: a shape error
in one place does not stop the checks elsewhere.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

from .coerce import COERCERS
from .errors import DefinitionError, ExpressionError
from .evaluate import compile_expression
from .i18n import N_, translate
from .schema import FormSchema, flatten_errors

EXPRESSION_KEYS = ("relevant", "constraint", "calculation")
MAX_DEPTH = 48  # JSON nesting; groups may nest about 20 deep
# code -> msgid (English) of the one catalogue (forms/translations), with %(name)r and %(detail)s
MESSAGES = {
    "too_deep": N_("the form is nested too deeply"),
    "not_a_mapping": N_("the form must be a mapping (JSON object)"),
    "missing_field": N_("missing required field"),
    "unknown_key": N_("unknown key"),
    "invalid_value": N_("invalid value"),
    "duplicate_name": N_("the name %(name)r is used twice"),
    "missing_choice_list": N_("question %(name)r needs a choice list"),
    "unknown_choice_list": N_("question %(name)r uses the unknown choice list %(detail)r"),
    "duplicate_choice": N_("choice %(name)r appears twice in the list"),
    "default_not_in_choices": N_("the default of %(name)r is not one of its choices"),
    "invalid_default": N_("the default of %(name)r does not fit its type"),
    "missing_calculation": N_("calculate question %(name)r needs a calculation"),
    "missing_label": N_("question %(name)r needs a label"),
    "empty_group": N_("group %(name)r needs children"),
    "unexpected_children": N_("only groups have children (%(name)r)"),
    "expression_syntax": N_("expression of %(name)r: %(detail)s"),
    "unknown_reference": N_("%(name)r refers to unknown field ${%(detail)s}"),
    "dependency_cycle": N_("calculations/relevance depend on each other in a cycle: %(detail)s"),
    "unknown_consent_field": N_("consent_field %(detail)r is not a select_one question"),
    "duplicate_indicator": N_("indicator id %(name)r is used twice"),
    "indicator_unknown_field": N_("indicator %(name)r refers to unknown field ${%(detail)s}"),
}


def nfc(value: Any) -> Any:
    """Recursively NFC-normalise every string (keys included) of a JSON-like value."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(key): nfc(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [nfc(item) for item in value]
    return value


DETAIL_IS_ENGLISH = ("missing_field", "invalid_value")  # marshmallow's own English text is the detail


def error(field: Any, code: str, name: str = "", detail: str = "") -> dict[str, Any]:
    """One definition error, with its text in English and Vietnamese from the catalogue."""
    en, vi = (translate(MESSAGES[code], lang, name=name, detail=detail) for lang in ("en", "vi"))
    if code in DETAIL_IS_ENGLISH:
        en = detail
    return {"field": field, "code": code, "message": f"{en} — {vi}", "message_en": en, "message_vi": vi}


def load_form(doc: dict[str, Any]) -> dict[str, Any]:
    """Validate a form document and return it normalised, or raise DefinitionError with all errors."""
    if not isinstance(doc, dict):
        raise DefinitionError([error("", "not_a_mapping")])
    if depth(doc) > MAX_DEPTH:
        raise DefinitionError([error("", "too_deep")])
    doc = nfc(doc)
    errors = schema_errors(doc)
    errors += Checker(doc).run()
    if errors:
        raise DefinitionError(errors)
    return FormSchema().load(doc)


def schema_errors(doc: dict[str, Any]) -> Any:
    """Marshmallow's shape errors as definition errors."""
    found = []
    for path, message in flatten_errors(FormSchema().validate(doc)):
        code = ("missing_field" if message.startswith("Missing data") else
                "unknown_key" if message == "Unknown field." else "invalid_value")
        found.append(error(path, code, detail=message))
    return found


def walk(questions: Any, path: str = "questions", parent: Any | None = None) -> Iterator[Any]:
    """Yield (path, question, parent group name) for every mapping in a (nested) question list."""
    if not isinstance(questions, list):
        return
    for index, question in enumerate(questions):
        if isinstance(question, dict):
            here = f"{path}[{index}]"
            yield here, question, parent
            if question.get("type") == "group":
                yield from walk(question.get("children"), f"{here}.children", _str(question.get("name")))


def _str(value):
    return value if isinstance(value, str) else None


class Checker:
    """Cross-reference checks over a (possibly malformed) document."""

    def __init__(self, doc):
        self.doc = doc
        self.errors = []
        self.items = list(walk(doc.get("questions")))
        self.choices = doc.get("choices") if isinstance(doc.get("choices"), dict) else {}
        self.types = {}
        self.deps = {}
        self.paths = {}

    def run(self) -> Any:
        """Run every check and return the errors found."""
        self.check_names()
        self.check_choice_lists()
        for path, question, parent in self.items:
            self.check_question(path, question, parent)
        self.check_cycles()
        self.check_consent_field()
        self.check_indicators()
        return self.errors

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.errors.append(error(*args, **kwargs))

    def check_names(self) -> None:
        """Every question/group name is unique."""
        for path, question, _ in self.items:
            name = _str(question.get("name"))
            if name is None:
                continue
            if name in self.types:
                self.add(f"{path}.name", "duplicate_name", name)
            else:
                self.types[name], self.paths[name] = question.get("type"), path

    def check_choice_lists(self) -> None:
        """Choice names are unique within each list."""
        for list_name, items in self.choices.items():
            seen = set()
            for index, item in enumerate(items if isinstance(items, list) else []):
                name = item.get("name") if isinstance(item, dict) else None
                if isinstance(name, str) and name in seen:
                    self.add(f"choices.{list_name}[{index}].name", "duplicate_choice", name)
                if isinstance(name, str):
                    seen.add(name)

    def check_question(self, path: Any, question: Any, parent: Any) -> None:
        """Type-specific rules, default, expressions and references of one question."""
        name, qtype = _str(question.get("name")) or "?", question.get("type")
        self.deps.setdefault(name, set()).update({parent} if parent else set())
        self.check_shape(path, question, name, qtype)
        self.check_default(path, question, name, qtype)
        for key in EXPRESSION_KEYS:
            text = question.get(key)
            if isinstance(text, str) and text.strip():
                refs = self.check_expression(f"{path}.{key}", text, name, current=name)
                if key != "constraint":
                    self.deps[name] |= refs

    def check_shape(self, path: Any, question: Any, name: str, qtype: Any) -> None:
        """Choice lists for selects, calculation for calculate, children for groups, labels."""
        if qtype in ("select_one", "select_multiple"):
            list_name = question.get("choices")
            if not list_name:
                self.add(f"{path}.choices", "missing_choice_list", name)
            elif isinstance(list_name, str) and list_name not in self.choices:
                self.add(f"{path}.choices", "unknown_choice_list", name, list_name)
        if qtype == "calculate" and not question.get("calculation"):
            self.add(f"{path}.calculation", "missing_calculation", name)
        if qtype == "group" and not question.get("children"):
            self.add(f"{path}.children", "empty_group", name)
        if qtype != "group" and question.get("children"):
            self.add(f"{path}.children", "unexpected_children", name)
        if qtype != "calculate" and question.get("label") is None:
            self.add(f"{path}.label", "missing_label", name)

    def check_default(self, path: Any, question: Any, name: str, qtype: Any) -> None:
        """A default must fit the question type (and its choice list for selects)."""
        default = question.get("default")
        if default is None or qtype not in COERCERS:
            return
        items = self.choices.get(question.get("choices"), []) if isinstance(question.get("choices"), str) else []
        names = {item.get("name") for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)} \
            if isinstance(items, list) else set()
        _, problem = COERCERS[qtype](default, names)
        if problem:
            code = "default_not_in_choices" if qtype.startswith("select") else "invalid_default"
            self.add(f"{path}.default", code, name)

    def check_expression(self, path: Any, text: str, name: str, current: Any | None = None,
                         code: str = "unknown_reference") -> Any:
        """Compile one expression; report syntax errors and unknown ${refs}; return its refs."""
        try:
            expression = compile_expression(text, current)
        except ExpressionError as problem:
            self.errors.append({**error(path, "expression_syntax", name, problem.message),
                                "position": problem.position})
            return set()
        if current is None and expression.uses_current:
            self.add(path, code, name, ".")
        for ref in sorted(expression.refs):
            if ref not in self.types or self.types[ref] == "group":
                self.add(path, code, name, ref)
        return {ref for ref in expression.refs if ref in self.types}

    def check_cycles(self) -> None:
        """No question's relevance or calculation may depend on itself, directly or not."""
        for cycle in find_cycles(self.deps):
            self.add(self.paths.get(cycle[0], "questions"), "dependency_cycle", cycle[0], " -> ".join(cycle))

    def check_consent_field(self) -> None:
        """The optional consent_field names a select_one question."""
        field = self.doc.get("consent_field")
        if field is not None and (not isinstance(field, str) or self.types.get(field) != "select_one"):
            self.add("consent_field", "unknown_consent_field", detail=str(field)[:64])

    def check_indicators(self) -> None:
        """Indicator ids are unique; numerators and denominators compile and refer to fields."""
        indicators = self.doc.get("indicators")
        seen = set()
        for index, indicator in enumerate(indicators if isinstance(indicators, list) else []):
            if not isinstance(indicator, dict):
                continue
            ident = _str(indicator.get("id")) or "?"
            if ident in seen:
                self.add(f"indicators[{index}].id", "duplicate_indicator", ident)
            seen.add(ident)
            for key in ("numerator", "denominator"):
                text = indicator.get(key)
                if isinstance(text, str) and text.strip():
                    self.check_expression(f"indicators[{index}].{key}", text, ident,
                                          code="indicator_unknown_field")


def find_cycles(deps: Any) -> Any:
    """Each dependency cycle once, as a list of names ending where it starts (iterative DFS)."""
    state, cycles = {}, []
    for root in list(deps):
        if root in state:
            continue
        state[root], path, iterators = "open", [root], [iter(sorted(deps.get(root, ())))]
        while iterators:
            dep = next(iterators[-1], None)
            if dep is None:
                state[path.pop()] = "done"
                iterators.pop()
            elif state.get(dep) == "open":
                cycles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                state[dep] = "open"
                path.append(dep)
                iterators.append(iter(sorted(deps.get(dep, ()))))
    return cycles


def depth(value: Any, limit: int = 64) -> Any:
    """Nesting depth of a JSON-like value, counted iteratively up to `limit` + 1."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > limit:
            break
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((child, level + 1) for child in item)
    return deepest
