"""Import an XLSForm spreadsheet into our form definition, through pyxform's own parser.

pyxform reads the workbook (`get_xlsform`) and checks and resolves it (`workbook_to_json`:
types, aliases, groups, translations, choice lists); we map its result onto our definition
and then check that with `load_form`. What our definition cannot express is never dropped
silently: each unsupported type, column, value or setting is reported with its sheet, row
and column (as the spreadsheet shows them), e.g. {"sheet": "survey", "row": 7, "column":
"appearance", "cell": "F7", "code": "unsupported_column", "message": "..."}. The caller
decides whether to keep the import without them. `start`/`end`/`today` and `instance_name`
are reported as "replaced" (the XForm langso renders records start/end and names instances).
"""
from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from pyxform import aliases
from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import get_xlsform

from .definition import load_form, nfc
from .errors import DefinitionError, ExpressionError, FormError
from .evaluate import compile_expression

TYPES = {"text": "text", "integer": "integer", "decimal": "decimal", "select one": "select_one",
         "select all that apply": "select_multiple", "date": "date", "geopoint": "geopoint",
         "note": "note", "calculate": "calculate", "group": "group"}
REPLACED_TYPES = ("start", "end", "today")
SUPPORTED_COLUMNS = {"type", "name", "label", "hint", "required", "relevant", "constraint", "jr:constraintMsg",
                     "calculate", "default", "personal"}
CHOICE_COLUMNS = {"list name", "list_name", "name", "label"}
SUPPORTED_SETTINGS = {"id_string", "version", "title", "default_language"}
REPLACED_SETTINGS = {"instance_name"}
LANGUAGE_CODES = {"vietnamese": "vi", "tiếng việt": "vi", "tieng viet": "vi", "english": "en", "default": None}
_CODE_RE = re.compile(r"\(([a-z]{2,3}(?:-[A-Za-z0-9]{1,8})?)\)\s*$")
_REF_RE = re.compile(r"\$\{[^}]*\}")
# Budgets: a workbook is a zip, so a small upload may unpack into gigabytes of rows.
MAX_UNPACKED_BYTES = 32 * 1024 * 1024  # the sum of the zip's members once uncompressed
MAX_ZIP_MEMBERS = 500
MAX_ROWS = {"survey": 5000, "choices": 20000, "settings": 50}
MAX_CELL_LENGTH = 10000


class XLSFormError(FormError):
    """The spreadsheet cannot be imported; `errors` lists problems with sheet, row and column."""
    code = "xlsform_invalid"


@dataclass
class ImportResult:
    """The imported definition, what it could not keep, and pyxform's warnings."""
    definition: dict
    unsupported: list = field(default_factory=list)
    replaced: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def column_letter(index: Any) -> Any:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def dealias(header: Any) -> Any:
    """The key pyxform files a survey column under ('calculation' -> 'calculate'), without language."""
    base = header.split("::")[0].strip()
    target = aliases.survey_header.get(base, base)
    return target[1] if isinstance(target, tuple) else target


def language_code(name: str, default_code: Any) -> Any:
    """'English (en)' -> 'en', 'Tiếng Việt' -> 'vi', pyxform's 'default' -> the form's default; else None."""
    if name == "default":
        return default_code
    match = _CODE_RE.search(name)
    if match:
        return match.group(1)
    return LANGUAGE_CODES.get(name.strip().lower())


class Sheet:
    """One sheet's rows as pyxform read them, with spreadsheet row numbers and column letters."""

    def __init__(self, name, rows, header):
        self.name, self.rows = name, list(rows or [])
        self.columns = list(header[0]) if header else []

    def cell(self, row: Any, column: Any) -> Any:
        """A location dict for a problem at (row number, column header)."""
        where = {"sheet": self.name, "row": row, "column": column}
        if column in self.columns:
            where["cell"] = f"{column_letter(self.columns.index(column))}{row}"
        return where

    def numbered(self) -> list:
        """(row number, row dict) for every row; the header is row 1."""
        return [(index + 2, row) for index, row in enumerate(self.rows)]


class Importer:
    """Maps pyxform's JSON of one workbook onto our definition, recording what cannot be kept."""

    def __init__(self, workbook):
        self.survey = Sheet("survey", workbook.survey, workbook.survey_header)
        self.choices_sheet = Sheet("choices", workbook.choices, workbook.choices_header)
        self.settings = Sheet("settings", workbook.settings, workbook.settings_header)
        self.rows = {}  # name -> [row numbers] in sheet order
        for number, row in self.survey.numbered():
            if row.get("name"):
                self.rows.setdefault(str(row["name"]).strip(), []).append(number)
        self.raw = dict(self.survey.numbered())
        self.unsupported, self.replaced, self.locations = [], [], {}
        self.default_code = "vi"

    def report(self, where: Any, code: str, message: str, replaced: bool = False) -> None:
        (self.replaced if replaced else self.unsupported).append({**where, "code": code, "message": message})

    def convert(self, data: Any) -> Any:
        """Our definition document for pyxform's JSON `data`."""
        self.default_code = language_code(str(data.get("default_language", "default")), "vi") or "vi"
        doc = {"id": str(data.get("id_string") or "form"), "version": str(data.get("version") or "1"),
               "title": self.texts(data.get("title") or data.get("id_string"), None, "title") or {"vi": "form"},
               "languages": ["vi", "en"], "choices": {}, "questions": []}
        self.check_settings()
        doc["questions"] = self.questions(data.get("children", []), "questions", doc)
        doc["languages"] += sorted(self.languages_seen(doc) - {"vi", "en"})
        return doc

    def check_settings(self) -> None:
        for number, row in self.settings.numbered()[:1]:
            for column, value in row.items():
                key = aliases.settings_header.get(column, column)
                if key in REPLACED_SETTINGS:
                    self.report(self.settings.cell(number, column), "replaced_setting",
                                "langso names each record by its village and household instead", replaced=True)
                elif key not in SUPPORTED_SETTINGS and value not in (None, ""):
                    self.report(self.settings.cell(number, column), "unsupported_setting",
                                f"the setting {column!r} is not supported and is left out")

    def questions(self, children: Any, path: Any, doc: dict[str, Any]) -> Any:
        """Our question list for pyxform children; unsupported ones are reported and left out."""
        out = []
        for element in children:
            name = str(element.get("name", ""))
            row = self.rows.get(name, [None]).pop(0) if self.rows.get(name) else None
            if row is None and name == "meta" and element.get("type") == "group":
                continue  # pyxform adds meta/instanceID itself; langso's XForm has its own
            question = self.question(element, row, f"{path}[{len(out)}]", doc)
            if question is not None:
                out.append(question)
        return out

    def question(self, element: Any, row: Any, path: Any, doc: dict[str, Any]) -> Any:
        """One question (or group) of ours, or None when its type is not supported."""
        ptype, name = element.get("type"), str(element.get("name", ""))
        where = self.survey.cell(row, "type")
        if ptype in REPLACED_TYPES:
            self.report(where, "replaced_type", f"{ptype!r} is recorded by langso's own start/end times",
                        replaced=True)
            return None
        if ptype not in TYPES:
            self.drop_type(element, row, ptype)
            return None
        self.locations[path] = self.survey.cell(row, "name")
        question = {"name": name, "type": TYPES[ptype]}
        self.check_columns(row)
        self.copy_texts(element, question, row)
        self.copy_binds(element, question, row, path)
        if element.get("default") not in (None, ""):
            question["default"] = self.default(element["default"], question["type"])
        if str(element.get("personal", "")).strip() in aliases.yes_no:
            question["personal"] = aliases.yes_no[str(element["personal"]).strip()]
        if question["type"] in ("select_one", "select_multiple"):
            question["choices"] = self.choice_list(element, doc)
        if question["type"] == "group":
            question["children"] = self.questions(element.get("children", []), f"{path}.children", doc)
        return question

    def drop_type(self, element: Any, row: Any, ptype: Any) -> None:
        """Report an unsupported type, and every question inside it (repeats)."""
        label = "repeat groups" if ptype == "repeat" else f"the question type {ptype!r}"
        self.report(self.survey.cell(row, "type"), "unsupported_type", f"{label} cannot be collected by "
                    f"langso; {element.get('name')!r} is left out")
        for inner in element.get("children", []):
            inner_name = str(inner.get("name", ""))
            inner_row = self.rows[inner_name].pop(0) if self.rows.get(inner_name) else None
            self.report(self.survey.cell(inner_row, "name"), "inside_unsupported",
                        f"{inner_name!r} is inside {element.get('name')!r} and is left out with it")

    def check_columns(self, row: Any) -> None:
        """Report every filled cell of the row in a column our definition cannot hold."""
        for column, value in (self.raw.get(row) or {}).items():
            if value in (None, "") or dealias(column) in SUPPORTED_COLUMNS:
                continue
            self.report(self.survey.cell(row, column), "unsupported_column",
                        f"the column {column!r} is not supported; its value {str(value)[:60]!r} is left out")

    def texts(self, value: Any, row: Any, column: Any) -> Any:
        """{language code: text} from pyxform's label/hint value; unmapped languages are reported."""
        if value is None or value == "":
            return None
        if not isinstance(value, dict):
            value = {"default": value}
        out = {}
        for language, text in value.items():
            header = column if language == "default" else f"{column}::{language}"
            code = language_code(str(language), self.default_code)
            if code is None:
                self.report(self.survey.cell(row, header), "unknown_language",
                            f"the language {language!r} has no code; name the column like '{column}::Jrai (jra)'")
            elif isinstance(text, str) and text.strip():
                out[code] = text
                if _REF_RE.search(text):
                    self.report(self.survey.cell(row, header), "unsupported_label_reference",
                                "answers inserted into texts (${...}) are shown literally")
        return out or None

    def copy_texts(self, element: Any, question: Any, row: Any) -> None:
        for key in ("label", "hint"):
            texts = self.texts(element.get(key), row, key)
            if texts:
                question[key] = texts

    def copy_binds(self, element: Any, question: Any, row: Any, path: Any) -> None:
        """required, relevant, constraint (+ message) and calculation, each checked by our parser."""
        bind = element.get("bind") or {}
        required = bind.get("required")
        if required not in (None, ""):
            if str(required).strip() in aliases.yes_no:
                question["required"] = aliases.yes_no[str(required).strip()]
            else:
                self.report(self.survey.cell(row, "required"), "unsupported_value",
                            f"conditional required ({required!r}) is not supported; use relevant instead")
        for ours, theirs, column in (("relevant", "relevant", "relevant"), ("constraint", "constraint", "constraint"),
                                     ("calculation", "calculate", "calculation")):
            text = bind.get(theirs)
            if text and self.expression_ok(text, question["name"], row, column):
                question[ours] = text
                self.locations[f"{path}.{ours}"] = self.survey.cell(row, column)
        message = self.texts(bind.get("jr:constraintMsg"), row, "constraint_message")
        if message and question.get("constraint"):
            question["constraint_message"] = message

    def expression_ok(self, text: str, name: str, row: Any, column: Any) -> bool:
        """Whether our expression language reads this XLSForm expression; reports it otherwise."""
        try:
            compile_expression(text, name)
        except ExpressionError as error:
            self.report(self.survey.cell(row, column), "unsupported_expression",
                        f"{error.reason}: {text[:80]!r} is left out")
            return False
        return True

    def default(self, value: Any, qtype: Any) -> Any:
        """A default converted to our type (numbers as numbers, several choices as a list)."""
        text = str(value).strip()
        if qtype == "integer" and re.fullmatch(r"-?[0-9]+", text):
            return int(text)
        if qtype == "decimal" and re.fullmatch(r"-?[0-9]+(\.[0-9]*)?", text):
            return float(text)
        if qtype == "select_multiple":
            return text.split()
        return text

    def choice_list(self, element: Any, doc: dict[str, Any]) -> Any:
        """Copy the question's choice list once, checking the choices sheet's columns."""
        list_name = str(element.get("list_name") or element.get("itemset") or "")
        if list_name in doc["choices"] or not element.get("choices"):
            return list_name
        doc["choices"][list_name] = [{"name": str(choice["name"]),
                                      "label": self.texts(choice.get("label"), None, "label") or
                                      {"vi": str(choice["name"])}} for choice in element["choices"]]
        for number, row in self.choices_sheet.numbered():
            if str(row.get("list_name", row.get("list name", ""))) != list_name:
                continue
            for column, value in row.items():
                if value not in (None, "") and column.split("::")[0].strip() not in CHOICE_COLUMNS:
                    self.report(self.choices_sheet.cell(number, column), "unsupported_column",
                                f"the choices column {column!r} is not supported (choice filters and media)")
        return list_name

    def languages_seen(self, doc: dict[str, Any]) -> Any:
        seen = set()
        stack = list(doc["questions"]) + [c for items in doc["choices"].values() for c in items]
        while stack:
            item = stack.pop()
            for key in ("label", "hint", "constraint_message"):
                seen.update((item.get(key) or {}).keys())
            stack.extend(item.get("children") or [])
        return seen

    def locate(self, path: Any) -> Any:
        """The spreadsheet location of a definition error path, as near as known."""
        probe = path
        while probe:
            if probe in self.locations:
                return self.locations[probe]
            probe = probe.rpartition(".")[0] if "." in probe else probe.rpartition("[")[0]
        return {"sheet": "settings" if path in ("id", "version", "title") else "survey"}


def import_xlsform(source: Any) -> ImportResult:
    """Read an XLSForm (path, bytes or file) into an ImportResult; raises XLSFormError if unusable."""
    warnings = []
    source = _within_budget(source)
    try:
        workbook = get_xlsform(source)
        data = workbook_to_json(workbook, form_name="data", fallback_form_name=workbook.fallback_form_name,
                                warnings=warnings)
    except PyXFormError as error:
        raise XLSFormError("pyxform cannot read this XLSForm", [_pyxform_error(str(error))]) from None
    except (UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError, zipfile.BadZipFile, EOFError) as error:
        # Bytes that are no workbook are read by pyxform as Markdown or CSV and fail in these ways.
        raise XLSFormError("this file is not an XLSForm workbook (.xlsx)", [
            {"sheet": None, "code": "not_a_workbook", "message": f"{type(error).__name__}: {error}"}]) from None
    _check_sheets(workbook)
    importer = Importer(workbook)
    doc = importer.convert(data)
    try:
        load_form(doc)
    except DefinitionError as error:
        raise XLSFormError(f"the XLSForm has {len(error.errors)} problem(s) for langso",
                           [{**importer.locate(e["field"]), "code": e["code"], "message": e["message"],
                             "field": e["field"]} for e in error.errors]) from None
    return ImportResult(nfc(doc), importer.unsupported, importer.replaced, warnings)


def _too_large(message, sheet=None):
    return XLSFormError("the XLSForm is too large for langso",
                        [{"sheet": sheet, "code": "too_large", "message": message}])


def _within_budget(source):
    """The workbook's bytes (or path) after checking that its zip does not unpack beyond the budget."""
    if hasattr(source, "read"):
        source = source.read()
    data = source if isinstance(source, (bytes, bytearray)) else None
    if data is None and not (isinstance(source, (str, os.PathLike)) and os.path.isfile(source)):
        return source
    opened = io.BytesIO(data) if data is not None else source
    try:
        if data is not None and not zipfile.is_zipfile(opened):
            return source
        with zipfile.ZipFile(opened) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return source  # not a zip: pyxform reports what it is
    if len(members) > MAX_ZIP_MEMBERS:
        raise _too_large(f"the workbook holds more than {MAX_ZIP_MEMBERS} files")
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        raise _too_large(f"the workbook unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB")
    return source


def _check_sheets(workbook):
    """At most MAX_ROWS rows per sheet and MAX_CELL_LENGTH characters per cell, before any conversion."""
    for sheet, limit in MAX_ROWS.items():
        rows = getattr(workbook, sheet, None) or []
        if len(rows) > limit:
            raise _too_large(f"the {sheet} sheet has more than {limit} rows", sheet)
        for index, row in enumerate(rows):
            for column, value in (row.items() if isinstance(row, dict) else ()):
                if _cell_length(value) > MAX_CELL_LENGTH:
                    raise XLSFormError("the XLSForm is too large for langso", [{
                        "sheet": sheet, "row": index + 2, "column": str(column)[:64], "code": "too_large",
                        "message": f"a cell holds more than {MAX_CELL_LENGTH} characters"}])


def _cell_length(value):
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(_cell_length(item) for item in value.values())
    if isinstance(value, list):
        return sum(_cell_length(item) for item in value)
    return 0


def _pyxform_error(text):
    """pyxform's message with its '[row : N]' turned into a row number."""
    match = re.search(r"\[row\s*:\s*(\d+)\]", text)
    problem = {"sheet": "survey", "code": "pyxform_error", "message": text}
    if match:
        problem["row"] = int(match.group(1))
    column = re.search(r"the '([A-Za-z_:]+)' (?:value|column)", text)
    if column:
        problem["column"] = column.group(1)
    return problem
