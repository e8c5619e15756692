"""CSV and XLSX writers on a hand-made form: headers, split select_multiple, personal fields, round trips."""
import csv
import io
from datetime import datetime

from openpyxl import load_workbook

from exports import tabular, tabular_columns as cols

DEFINITION = {
    "id": "demo", "version": "2",
    "questions": [
        {"name": "consent", "type": "select_one", "choices": "yes_no", "label": {"vi": "Đồng ý", "en": "Consent"}},
        {"name": "household", "type": "group", "children": [
            {"name": "head_name", "type": "text", "personal": True, "label": {"vi": "Họ và tên chủ hộ"}},
            {"name": "phone", "type": "text", "personal": True, "label": {"vi": "Số điện thoại"}},
            {"name": "location", "type": "geopoint", "personal": True, "label": {"vi": "Vị trí"}},
            {"name": "members", "type": "integer", "label": {"vi": "Số nhân khẩu", "en": "Members"}},
        ]},
        {"name": "note_1", "type": "note", "label": {"vi": "Cảm ơn"}},
        {"name": "devices", "type": "select_multiple", "choices": "devices",
         "label": {"vi": "Thiết bị", "en": "Devices"}},
        {"name": "income", "type": "decimal", "label": {"vi": "Thu nhập"}},
        {"name": "remark", "type": "text", "label": {"vi": "Ghi chú"}},
    ],
    "choices": {"yes_no": [{"name": "yes", "label": {"vi": "Có"}}, {"name": "no", "label": {"vi": "Không"}}],
                "devices": [{"name": "smartphone", "label": {"vi": "Điện thoại thông minh", "en": "Smartphone"}},
                            {"name": "computer", "label": {"vi": "Máy tính", "en": "Computer"}},
                            {"name": "tv", "label": {"vi": "Ti vi", "en": "TV"}}]},
}
OLDER = {"id": "demo", "version": "1", "questions": [{"name": "old_question", "type": "text"},
                                                     {"name": "members", "type": "integer"}]}


def record(n, **answers):
    """A submission record as tabular_source yields it."""
    return {"instance_id": f"uuid-{n}", "form_version": "2", "village_code": "23722-01",
            "village_name": "Làng Ia Ring", "household_key": f"hộ-{n}", "round": "2025",
            "collected_at": datetime(2025, 3, 1, 9, 0, n), "received_at": datetime(2025, 3, 2, 10, 0, n),
            "collector": "collector_phuhoa", "status": "accepted", "answers": answers}


RECORDS = [
    record(1, consent="yes", head_name="Rơ Mah Hyao", phone="0912345678", location="13.98 108.0 600 5",
           members=5, devices=["smartphone", "tv"], income=1.5, remark="Nhà ở cuối làng, đường đất đỏ"),
    record(2, consent="no"),
    record(3, consent="yes", head_name="Ksor Thị Ngọc Hà", members=0, devices=[], income=0.0, remark=""),
    record(4, consent="yes", members=7, devices="computer", remark="=1+1", old_question="cũ"),
]


def csv_rows(chunks):
    """Decode CSV chunks (checking the BOM) into rows."""
    data = b"".join(chunks)
    assert data.startswith("\ufeff".encode("utf-8"))
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def export_rows(fmt, personal=True, use_labels=False, lang="vi"):
    """Header and rows of an export of RECORDS in `fmt`."""
    columns = cols.columns([DEFINITION, OLDER], personal=personal, lang=lang)
    chunks = tabular.writer(fmt)(cols.headers(columns, use_labels), tabular.table_rows(columns, RECORDS, fmt))
    if fmt == "csv":
        rows = csv_rows(chunks)
    else:
        sheet = load_workbook(io.BytesIO(b"".join(chunks)), read_only=True).active
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = rows[0]
    return header, [dict(zip(header, list(row) + [None] * (len(header) - len(row)))) for row in rows[1:]]


def test_columns_are_metadata_then_one_per_question_with_select_multiple_split_per_choice():
    header, _ = export_rows("csv")
    assert header[:10] == ["instance_id", "village_code", "village_name", "household_key", "round",
                           "collected_at", "received_at", "collector", "form_version", "status"]
    assert header[10:] == ["consent", "head_name", "phone", "location", "members", "devices/smartphone",
                           "devices/computer", "devices/tv", "income", "remark", "old_question"]


def test_personal_fields_are_left_out_unless_asked_for():
    header, rows = export_rows("csv", personal=False)
    assert not {"head_name", "phone", "location"} & set(header)
    assert "Rơ Mah Hyao" not in str(rows)


def test_labels_as_headers_in_vietnamese_or_english():
    header, _ = export_rows("csv", use_labels=True)
    assert "Họ và tên chủ hộ" in header and "Thiết bị: Điện thoại thông minh" in header and "Mã hộ" in header
    header, _ = export_rows("csv", use_labels=True, lang="en")
    assert "Devices: Smartphone" in header and "Household key" in header and "Members" in header


def test_csv_round_trips_every_value_including_vietnamese_and_empty_answers():
    _, rows = export_rows("csv")
    first, refusal, empty, typed = rows
    assert first["head_name"] == "Rơ Mah Hyao" and first["remark"] == "Nhà ở cuối làng, đường đất đỏ"
    assert first["village_name"] == "Làng Ia Ring" and first["household_key"] == "hộ-1"
    assert (first["devices/smartphone"], first["devices/computer"], first["devices/tv"]) == ("1", "0", "1")
    assert first["income"] == "1.5" and first["members"] == "5" and first["location"] == "13.98 108.0 600 5"
    assert first["collected_at"] == "2025-03-01 09:00:01"
    assert refusal["consent"] == "no" and refusal["members"] == "" and refusal["devices/tv"] == ""
    assert empty["members"] == "0" and empty["income"] == "0" and empty["remark"] == ""
    assert (empty["devices/smartphone"], empty["devices/tv"]) == ("0", "0")
    assert typed["devices/computer"] == "1" and typed["old_question"] == "cũ"


def test_csv_neutralises_text_excel_would_run_as_a_formula():
    _, rows = export_rows("csv")
    assert rows[3]["remark"] == "'=1+1"
    assert tabular.csv_safe("-5") == "-5" and tabular.csv_safe("@SUM(A1)") == "'@SUM(A1)"


def test_xlsx_round_trips_every_value_with_numbers_and_times_typed():
    header, rows = export_rows("xlsx")
    assert header == export_rows("csv")[0]
    first, refusal, empty, typed = rows
    assert first["head_name"] == "Rơ Mah Hyao" and first["remark"] == "Nhà ở cuối làng, đường đất đỏ"
    assert first["members"] == 5 and first["income"] == 1.5
    assert first["collected_at"] == datetime(2025, 3, 1, 9, 0, 1)
    assert (first["devices/smartphone"], first["devices/computer"], first["devices/tv"]) == (1, 0, 1)
    assert refusal["members"] is None and refusal["devices/tv"] is None
    assert empty["members"] == 0 and empty["income"] == 0 and empty["remark"] is None  # Excel has no ""
    assert typed["remark"] == "=1+1"  # stored as text, not a formula


def test_xlsx_from_a_workbook_is_text_not_formula():
    columns = cols.columns([DEFINITION], personal=False)
    data = b"".join(tabular.xlsx_chunks(cols.headers(columns), tabular.table_rows(columns, RECORDS[3:], "xlsx")))
    sheet = load_workbook(io.BytesIO(data)).active
    remark = next(c for c in sheet[2] if c.value == "=1+1")
    assert remark.data_type == "s"


def test_writers_are_generators_that_yield_as_rows_arrive():
    produced = []

    def rows():
        for n in range(3 * tabular.FLUSH_ROWS):
            produced.append(n)
            yield [f"hộ {n}", n]
    chunks = tabular.csv_chunks(["a", "b"], rows())
    next(chunks)
    assert len(produced) < 3 * tabular.FLUSH_ROWS
    rest = b"".join(chunks)
    assert rest.decode("utf-8").count("\r\n") > 0
