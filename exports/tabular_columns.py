"""The columns of a data export: metadata, then one per question (select_multiple split per choice).

Columns come from every published version of the form (latest order first, questions only
older versions had appended), so submissions of any version fit one header. Questions
marked `personal: true` (head of household, phone, GPS) are left out for wider sharing.
"""
import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime

SKIPPED_TYPES = ("note", "group")
METADATA = (  # (key, Vietnamese label, English label)
    ("instance_id", "Mã phiếu", "Instance id"),
    ("village_code", "Mã thôn", "Village code"),
    ("village_name", "Tên thôn", "Village name"),
    ("household_key", "Mã hộ", "Household key"),
    ("round", "Đợt khảo sát", "Round"),
    ("collected_at", "Thời điểm thu thập", "Collected at"),
    ("received_at", "Thời điểm nhận", "Received at"),
    ("collector", "Người thu thập", "Collector"),
    ("form_version", "Phiên bản biểu mẫu", "Form version"),
    ("status", "Trạng thái", "Status"),
)
DATETIME_KEYS = ("collected_at", "received_at")


@dataclass(frozen=True)
class Column:
    """One export column: where its value comes from and its two possible headers."""
    name: str
    label: str
    source: str            # "meta" or "answer"
    key: str               # metadata key or question name
    choice: str | None = None  # for a select_multiple split column


def text_in(label, lang, fallback):
    """A multilingual label in `lang` (then Vietnamese, then the fallback), NFC."""
    if isinstance(label, str):
        value = label
    else:
        label = label or {}
        value = label.get(lang) or label.get("vi") or fallback
    return unicodedata.normalize("NFC", value)


def walk(questions):
    """Every question of a definition, groups flattened, in form order."""
    for question in questions or []:
        if question.get("type") == "group":
            yield from walk(question.get("children"))
        else:
            yield question


def questions_of(definitions):
    """{name: (question, choice lists)} over the definitions, latest first, in first-seen order."""
    found = {}
    for definition in definitions:
        for question in walk(definition.get("questions")):
            if question.get("name") and question["name"] not in found:
                found[question["name"]] = (question, definition.get("choices") or {})
    return found


def columns(definitions, personal=False, lang="vi"):
    """The export's columns for these form definitions (latest first)."""
    meta = [Column(key, vi if lang == "vi" else en, "meta", key) for key, vi, en in METADATA]
    out = list(meta)
    for name, (question, choice_lists) in questions_of(definitions).items():
        if question.get("type") in SKIPPED_TYPES or (question.get("personal") and not personal):
            continue
        label = text_in(question.get("label"), lang, name)
        if question.get("type") == "select_multiple":
            for choice in choice_lists.get(question.get("choices"), []):
                out.append(Column(f"{name}/{choice['name']}",
                                  f"{label}: {text_in(choice.get('label'), lang, choice['name'])}",
                                  "answer", name, choice["name"]))
        else:
            out.append(Column(name, label, "answer", name))
    return out


def headers(columns_, use_labels=False):
    """The header row: question names (stable, for analysis) or labels (for reading)."""
    return [c.label if use_labels else c.name for c in columns_]


def as_datetime(value):
    """A naive datetime from a database value (SQLite gives text, PostgreSQL datetimes)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def cell_value(column, record):
    """The raw value of one column for one submission record (None when empty)."""
    if column.source == "meta":
        return record.get(column.key)
    answer = (record.get("answers") or {}).get(column.key)
    if column.choice is None:
        return answer
    if answer is None or answer == "":
        return None
    chosen = answer if isinstance(answer, (list, tuple)) else str(answer).split()
    return 1 if column.choice in chosen else 0


def plain(value):
    """A value as export text: numbers without a spurious ".0", lists space-separated, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (list, tuple)):
        return " ".join(plain(v) for v in value)
    if isinstance(value, dict):
        import json
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return unicodedata.normalize("NFC", str(value))
