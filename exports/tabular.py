"""Streaming data exports: CSV (UTF-8 with BOM, for Excel) and XLSX (openpyxl write-only mode).

Both writers take an iterator of rows and return a generator of byte chunks, so a web
response or a file receives the export piece by piece and memory stays flat however many
households there are. CSV is produced as it goes; XLSX rows go to openpyxl's write-only
sheet (spooled to a temporary file by openpyxl), and the finished file is then read back
in chunks, since a zip's directory can only be written at its end.

Spreadsheet safety: text that Excel would run as a formula (starting with = + - @) is
prefixed with ' in CSV and written as a plain string cell in XLSX, in the header row (labels
are typed by form authors) as in the data rows.
"""
import csv
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime

from . import tabular_columns as cols, tabular_source as source

BOM = "\ufeff"
FLUSH_ROWS = 500
FILE_CHUNK = 64 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
SHEET_TITLE = "submissions"


@dataclass
class Export:
    """A prepared export: its file name, media type, row count unknown until streamed, and its chunks."""
    filename: str
    mimetype: str
    chunks: object  # generator of bytes


def is_number(text):
    """True for text that reads as a number ("-5", "+1.5"), which is not a formula."""
    try:
        float(text)
        return True
    except ValueError:
        return False


def csv_safe(text):
    """Text with a leading ' when Excel would otherwise take it as a formula."""
    if text and text.startswith(FORMULA_STARTS) and not is_number(text):
        return "'" + text
    return text


def csv_chunks(header, rows):
    """CSV bytes (BOM first, CRLF lines as Excel expects), a few hundred rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([csv_safe(cols.plain(value)) for value in header])
    pending = 1
    for row in rows:
        writer.writerow([csv_safe(cols.plain(value)) for value in row])
        pending += 1
        if pending >= FLUSH_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def xlsx_value(sheet, value):
    """A value as openpyxl should store it: numbers and datetimes typed, formulas kept as text."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    if value is None or isinstance(value, (int, float, datetime)):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", cols.plain(value))
    if text.startswith("="):
        cell = WriteOnlyCell(sheet, text)
        cell.data_type = "s"
        return cell
    return text


def xlsx_chunks(header, rows):
    """XLSX bytes: rows go to a write-only sheet, then the saved file is read back in chunks."""
    from openpyxl import Workbook
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    sheet.append([xlsx_value(sheet, value) for value in header])
    for row in rows:
        sheet.append([xlsx_value(sheet, value) for value in row])
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
        with open(path, "rb") as saved:
            while chunk := saved.read(FILE_CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def table_rows(columns, records, fmt):
    """The value rows of an export (datetimes typed for XLSX, as written for CSV)."""
    for record in records:
        row = [cols.cell_value(column, record) for column in columns]
        if fmt == "xlsx":
            row = [cols.as_datetime(v) if c.key in cols.DATETIME_KEYS and c.source == "meta" else v
                   for c, v in zip(columns, row)]
        yield row


def writer(fmt):
    """The chunk writer for "csv" or "xlsx"."""
    return {"csv": csv_chunks, "xlsx": xlsx_chunks}[fmt]


def export(db, unit_code, fmt="csv", round=None, personal=False, form_id="household_digital",
           use_labels=False, lang="vi", current_only=True):
    """A streaming export of the unit's submissions (latest per household unless current_only=False)."""
    if fmt not in FORMATS:
        from sync.errors import Invalid
        raise Invalid(f"unknown export format {fmt!r}",
                      [{"field": "format", "code": "invalid", "message": "use csv or xlsx"}])
    path = source.unit_path(db, unit_code)
    columns = cols.columns(source.form_definitions(db, form_id), personal=personal, lang=lang)
    records = source.submissions(db, path, form_id, round, current_only)
    chunks = writer(fmt)(cols.headers(columns, use_labels), table_rows(columns, records, fmt))
    suffix = f"_{round}" if round else ""
    return Export(f"{form_id}_{unit_code}{suffix}.{fmt}", FORMATS[fmt], chunks)
