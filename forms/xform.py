"""Render a published form as an ODK XForm (the XML ODK Collect downloads and fills in).

The structure follows pyxform's output (h:html / h:head / model with itext, the primary
instance, one secondary instance per choice list, binds / h:body with input, select1,
select and group). Besides the form's own questions every XForm carries a `langso` group
asking for the village (a select over the collector's villages, generated per user at
download time) and the household key, `start`/`end` timestamps (collected_at), and
`meta/instanceID` (a uuid), `meta/instanceName` and `meta/deprecatedID` (set when edited).
Expressions are re-printed from our parser's AST with `${name}` turned into instance paths.
Pure Python: no Flask, no database.
"""
from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from typing import Any

from .definition import load_form
from .errors import FormError
from .expressions import INFIX, parse
from .i18n import C_, N_, languages, translate

XF = "http://www.w3.org/2002/xforms"
NAMESPACES = {"h": "http://www.w3.org/1999/xhtml", "ev": "http://www.w3.org/2001/xml-events",
              "xsd": "http://www.w3.org/2001/XMLSchema", "jr": "http://openrosa.org/javarosa",
              "orx": "http://openrosa.org/xforms", "odk": "http://www.opendatakit.org/xforms"}
ROOT = "data"
VISIT = "langso"  # the group holding village_code, household_key, start and end
VILLAGES = "langso-villages"  # secondary instance id; the hyphen keeps it apart from choice list names
RESERVED = (VISIT, "meta")
LANGUAGE_NAMES = {"vi": "Tiếng Việt (vi)", "en": "English (en)"}
BIND_TYPES = {"text": "string", "integer": "int", "decimal": "decimal", "select_one": "string",
              "select_multiple": "string", "date": "date", "geopoint": "geopoint", "note": "string",
              "calculate": "string"}
CONTROLS = {"select_one": "select1", "select_multiple": "select"}
AUTOCOMPLETE_FROM = 30  # villages; longer lists get a search box
VISIT_MSGIDS = {  # msgids of the one catalogue; every language langso speaks labels the visit group
    "langso": N_("Household visited"),
    "village_code": C_("odk", "Village"),
    "household_key": N_("Household key (from the village register)"),
}
VISIT_TEXTS = {key: {lang: translate(msgid, lang) for lang in languages()} for key, msgid in VISIT_MSGIDS.items()}


class XFormError(FormError):
    """The definition cannot be rendered (e.g. it uses a name the XForm reserves)."""
    code = "xform_error"


def element(parent: Any, tag: Any, text: str | None = None, **attributes: Any) -> Any:
    """Append a child element; names keep their prefixes (`jr__preload` is written jr:preload)."""
    attrib = {key.replace("__", ":"): value for key, value in attributes.items() if value is not None}
    node = ET.SubElement(parent, tag, attrib) if parent is not None else ET.Element(tag, attrib)
    if text is not None:
        node.text = text
    return node


def quote(text: str) -> Any:
    """An XPath string literal."""
    return f'"{text}"' if "'" in text else f"'{text}'"


def number(value: Any) -> Any:
    """A number literal without a trailing .0."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def to_xpath(expression: str, paths: Any) -> Any:
    """Translate one of our expressions to XPath: ${name} becomes its absolute instance path."""
    return _xpath(parse(expression), paths)


def _xpath(node, paths):
    """Print an AST node as XPath with only the parentheses precedence needs."""
    kind = node.kind
    if kind == "num":
        return number(node.value)
    if kind == "str":
        return quote(node.value)
    if kind == "ref":
        if node.value not in paths:
            raise XFormError(f"unknown field ${{{node.value}}}")
        return paths[node.value]
    if kind == "cur":
        return "."
    if kind == "neg":
        inner = node.args[0]
        text = _xpath(inner, paths)
        return f"-({text})" if inner.kind == "op" else f"-{text}"
    if kind == "call":
        return f"{node.value}({', '.join(_xpath(arg, paths) for arg in node.args)})"
    power = INFIX[node.value]
    left, right = node.args
    left_text, right_text = _xpath(left, paths), _xpath(right, paths)
    if left.kind == "op" and INFIX[left.value] < power:
        left_text = f"({left_text})"
    if right.kind == "op" and INFIX[right.value] <= power:
        right_text = f"({right_text})"
    return f"{left_text} {node.value} {right_text}"


def instance_paths(questions: Any, base: Any = f"/{ROOT}") -> Any:
    """{name: absolute instance path} for every question and group of a (nested) question list."""
    paths = {}
    for question in questions:
        path = f"{base}/{question['name']}"
        paths[question["name"]] = path
        if question["type"] == "group":
            paths.update(instance_paths(question["children"], path))
    return paths


class Renderer:
    """Builds the XForm tree of one loaded definition for one list of villages."""

    def __init__(self, definition, villages):
        self.doc = definition
        self.villages = list(villages)
        self.languages = list(dict.fromkeys(["vi"] + list(definition.get("languages") or ["vi", "en"])))
        self.paths = instance_paths(definition["questions"])
        self.texts = {}  # itext id -> {lang: text}
        self.binds = []

    def render(self) -> Any:
        """The whole h:html tree."""
        self._check_reserved()
        html = element(None, "h:html", xmlns=XF)
        for prefix, uri in NAMESPACES.items():
            html.set(f"xmlns:{prefix}", uri)
        head = element(html, "h:head")
        element(head, "h:title", self.doc["title"]["vi"])
        model = element(head, "model")
        model.set("odk:xforms-version", "1.0.0")
        itext = element(model, "itext")
        instance = element(model, "instance")
        root = element(instance, ROOT, id=self.doc["id"], version=self.doc["version"],
                       orx__version=self.doc["version"])
        body = element(html, "h:body")
        self._visit(root, body)
        self._questions(self.doc["questions"], root, body, f"/{ROOT}")
        self._meta(root)
        self._choice_instances(model)
        for attributes in self.binds:
            element(model, "bind", **attributes)
        self._itext(itext)
        return html

    def _check_reserved(self):
        for question in self.doc["questions"]:
            if question["name"] in RESERVED:
                raise XFormError(f"the name {question['name']!r} is reserved in XForms; rename the question")

    def _visit(self, root, body):
        """The village and household questions, and the start/end timestamps."""
        base = f"/{ROOT}/{VISIT}"
        group_node = element(root, VISIT)
        for name in ("village_code", "household_key", "start", "end"):
            element(group_node, name)
        self.texts[f"{base}:label"] = VISIT_TEXTS[VISIT]
        group = element(body, "group", ref=base, appearance="field-list")
        element(group, "label", ref=f"jr:itext('{base}:label')")
        village = element(group, "select1", ref=f"{base}/village_code",
                          appearance="autocomplete" if len(self.villages) > AUTOCOMPLETE_FROM else None)
        self._label(village, f"{base}/village_code", VISIT_TEXTS["village_code"])
        self._itemset(village, VILLAGES, "label")
        household = element(group, "input", ref=f"{base}/household_key")
        self._label(household, f"{base}/household_key", VISIT_TEXTS["household_key"])
        self.binds += [
            {"nodeset": f"{base}/village_code", "type": "string", "required": "true()"},
            {"nodeset": f"{base}/household_key", "type": "string", "required": "true()",
             "constraint": "string-length(normalize-space(.)) <= 100"},
            {"nodeset": f"{base}/start", "type": "dateTime", "jr__preload": "timestamp",
             "jr__preloadParams": "start"},
            {"nodeset": f"{base}/end", "type": "dateTime", "jr__preload": "timestamp", "jr__preloadParams": "end"},
        ]

    def _questions(self, questions, parent, body, base):
        """Instance nodes, binds and controls of a question list, recursively through groups."""
        for question in questions:
            path = f"{base}/{question['name']}"
            node = element(parent, question["name"], self._default(question))
            self.binds.append(self._bind(question, path))
            if question["type"] == "group":
                group = element(body, "group", ref=path)
                if question.get("label"):
                    self._label(group, path, question["label"])
                self._questions(question["children"], node, group, path)
            elif question["type"] != "calculate":
                self._control(question, path, body)

    def _default(self, question):
        """The instance's initial value (what pyxform writes for the `default` column)."""
        default = question.get("default")
        if default is None or question["type"] == "group":
            return None
        if isinstance(default, list):
            return " ".join(str(item) for item in default)
        if isinstance(default, bool):
            return "true" if default else "false"
        return number(default) if isinstance(default, float) else str(default)

    def _bind(self, question, path):
        """The bind of one question or group: type, relevant, required, constraint, calculate."""
        qtype = question["type"]
        bind = {"nodeset": path, "type": BIND_TYPES.get(qtype)}
        if question.get("relevant"):
            bind["relevant"] = to_xpath(question["relevant"], self.paths)
        if question.get("required") and qtype not in ("group", "note", "calculate"):
            bind["required"] = "true()"
        if question.get("constraint"):
            bind["constraint"] = to_xpath(question["constraint"], self.paths)
            if question.get("constraint_message"):
                self.texts[f"{path}:jr:constraintMsg"] = question["constraint_message"]
                bind["jr__constraintMsg"] = f"jr:itext('{path}:jr:constraintMsg')"
        if qtype == "calculate":
            bind["calculate"] = to_xpath(question["calculation"], self.paths)
        if qtype == "note":
            bind["readonly"] = "true()"
        return bind

    def _control(self, question, path, body):
        """The body control: input, select1 or select with label, hint and choices."""
        control = element(body, CONTROLS.get(question["type"], "input"), ref=path)
        self._label(control, path, question.get("label"))
        if question.get("hint"):
            self.texts[f"{path}:hint"] = question["hint"]
            element(control, "hint", ref=f"jr:itext('{path}:hint')")
        if question["type"] in CONTROLS:
            self._itemset(control, question["choices"], "jr:itext(itextId)")

    def _label(self, control, path, texts):
        if texts:
            self.texts[f"{path}:label"] = texts
            element(control, "label", ref=f"jr:itext('{path}:label')")

    def _itemset(self, control, list_name, label_ref):
        itemset = element(control, "itemset", nodeset=f"instance('{list_name}')/root/item")
        element(itemset, "value", ref="name")
        element(itemset, "label", ref=label_ref)

    def _meta(self, root):
        """meta/instanceID (uuid preload), instanceName (village and household), deprecatedID."""
        meta = element(root, "meta")
        for name in ("instanceID", "instanceName", "deprecatedID"):
            element(meta, name)
        base = f"/{ROOT}/meta"
        visit = f"/{ROOT}/{VISIT}"
        self.binds += [
            {"nodeset": f"{base}/instanceID", "type": "string", "readonly": "true()", "jr__preload": "uid"},
            {"nodeset": f"{base}/instanceName", "type": "string",
             "calculate": f"concat({visit}/village_code, ' – ', {visit}/household_key)"},
            {"nodeset": f"{base}/deprecatedID", "type": "string"},
        ]

    def _choice_instances(self, model):
        """One secondary instance per choice list (labels through itext), and the villages."""
        for list_name, items in self.doc.get("choices", {}).items():
            root = element(element(model, "instance", id=list_name), "root")
            for index, choice in enumerate(items):
                item = element(root, "item")
                text_id = f"{list_name}-{index}"
                self.texts[text_id] = choice["label"]
                element(item, "itextId", text_id)
                element(item, "name", choice["name"])
        root = element(element(model, "instance", id=VILLAGES), "root")
        for code, label in self.villages:
            item = element(root, "item")
            element(item, "name", str(code))
            element(item, "label", str(label))

    def _itext(self, itext):
        """One translation per language; a missing text falls back to Vietnamese."""
        for lang in self.languages:
            translation = element(itext, "translation", lang=language_name(lang),
                                  default="true()" if lang == "vi" else None)
            for text_id, texts in self.texts.items():
                value = texts.get(lang) or texts.get("vi") or next(iter(texts.values()), "")
                element(element(translation, "text", id=text_id), "value", value)


def language_name(code: str) -> Any:
    """The itext language name Collect shows, in XLSForm's 'Name (code)' style."""
    return LANGUAGE_NAMES.get(code, f"{code} ({code})")


def render_xform(definition: dict[str, Any], villages: tuple = ()) -> Any:
    """The XForm (str) of a form definition with `villages` as (code, label) pairs for the village select."""
    tree = Renderer(load_form(definition), villages).render()
    ET.indent(tree, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(tree, encoding="unicode") + "\n"


def xform_hash(xform_text: Any) -> Any:
    """The OpenRosa form-list hash of an XForm: "md5:" and the hex digest of its UTF-8 bytes."""
    return "md5:" + hashlib.md5(xform_text.encode("utf-8")).hexdigest()
