"""A form draft as editable text (YAML or JSON) and its errors with their location (path and line)."""
import json
import re

import yaml

import forms
from forms import yamltext
from forms.errors import DefinitionError

FORMATS = ("yaml", "json")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


TOP_KEYS = ("id", "version", "title", "description", "default_language", "languages", "consent_field",
            "choices", "questions", "indicators")
QUESTION_KEYS = ("name", "type", "label", "hint", "choices", "required", "relevant", "constraint",
                 "constraint_message", "calculation", "default", "personal", "children")
INDICATOR_KEYS = ("id", "label", "unit", "numerator", "denominator", "targets")


def readable(doc):
    """Plain dicts and lists (the database gives tracked ones) with keys in the order people write them."""
    doc = json.loads(json.dumps(doc))
    ordered = _ordered(doc, TOP_KEYS)
    if isinstance(ordered.get("questions"), list):
        ordered["questions"] = [_question(q) for q in ordered["questions"]]
    if isinstance(ordered.get("indicators"), list):
        ordered["indicators"] = [_ordered(i, INDICATOR_KEYS) for i in ordered["indicators"]]
    return ordered


def _question(question):
    question = _ordered(question, QUESTION_KEYS)
    if isinstance(question.get("children"), list):
        question["children"] = [_question(q) for q in question["children"]]
    return question


def _ordered(mapping, keys):
    """`mapping` with `keys` first (in that order), then any others as they came."""
    if not isinstance(mapping, dict):
        return mapping
    first = {k: mapping[k] for k in keys if k in mapping}
    return {**first, **{k: v for k, v in mapping.items() if k not in first}}


def to_text(doc, fmt="yaml"):
    """The draft serialised for the editor, keys in their usual order, Vietnamese kept readable."""
    if not doc:
        return ""
    doc = readable(doc)
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def parse(text):
    """(document, errors): YAML or JSON text parsed into a form document, or a located syntax error."""
    try:
        doc = yamltext.load(text or "")
    except yamltext.YamlBudgetError as problem:
        return None, [{"field": None, "line": None, "code": "too_large", "message": str(problem)}]
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        return None, [{"field": None, "line": mark.line + 1 if mark else None, "code": "syntax",
                       "message": str(getattr(problem, "problem", None) or problem)}]
    if not isinstance(doc, dict):
        return None, [{"field": None, "line": 1, "code": "not_a_mapping",
                       "message": "the form must be a mapping (id, version, questions, ...)"}]
    return doc, []


def definition_errors(doc, text="", lang="vi"):
    """Every mistake the form engine finds, in the page language, each with its path and line."""
    try:
        forms.load_form(doc)
    except DefinitionError as error:
        lines = line_index(text)
        return [{"field": e.get("field") or None, "line": nearest_line(lines, e.get("field") or ""),
                 "code": e.get("code"), "message": e.get(f"message_{lang}") or e.get("message")}
                for e in error.errors]
    return []


def located(errors, text):
    """Add a line number to errors that carry a `field` path (e.g. from publish)."""
    lines = line_index(text)
    return [{**e, "line": e.get("line") or nearest_line(lines, e.get("field") or "")} for e in errors]


def line_index(text):
    """{path: 1-based line} for every node of the YAML/JSON text; {} when it does not parse."""
    try:
        root = yamltext.compose(text or "")
        yamltext.expanded_size(root)
    except (yaml.YAMLError, yamltext.YamlBudgetError):
        return {}
    index = {}
    try:
        _index(root, "", index)
    except RecursionError:
        return {}
    return index


def _index(node, path, index):
    """Walk a composed YAML node tree recording where each path starts."""
    if node is None or len(index) > yamltext.MAX_NODES:
        return
    index.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = f"{path}.{key.value}" if path else str(key.value)
            index[child] = key.start_mark.line + 1
            _index(value, child, index)
    elif isinstance(node, yaml.SequenceNode):
        for number, item in enumerate(node.value):
            child = f"{path}[{number}]"
            index[child] = item.start_mark.line + 1
            _index(item, child, index)


def nearest_line(index, path):
    """The line of `path`, or of its closest ancestor that exists in the text."""
    while path:
        if path in index:
            return index[path]
        path = path.rsplit(".", 1)[0] if "." in path else re.sub(r"\[\d+\]$", "", path) if path.endswith("]") else ""
    return None
