"""`langso bench export` and `langso bench report`: export throughput and memory, PDF timings.

Each measures its reference in the same run: the csv module writing the same rows (export),
a bare one-page reportlab document in the same font (report); ratios are printed.
"""
import csv
import io
import json
import os
import random
import resource
import tempfile
import time
import uuid
from datetime import datetime, timedelta

import click

from .bench import bench, json_option, report

EXTRA_INDICATORS = ("digital_signature_adults", "digital_skills_working_age", "online_protected",
                    "online_public_services_adults", "telehealth_adults", "ehr_members")


def peak_rss_mb():
    """The process's peak resident memory so far, in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def seed_submissions(db, rows, village_codes):
    """Insert `rows` current submissions spread over villages, fast (raw executemany, one transaction)."""
    from pony.orm import db_session

    from forms import household_digital
    from sync.submission_table import COLUMNS
    rng, start = random.Random(7), datetime(2025, 3, 1, 8)
    names = ["Rơ Mah Hyao", "Ksor Thị Ngọc Hà", "Nguyễn Văn Đức", "Đinh Thị Ưng", "Siu H'Bia"]
    version = household_digital()["version"]
    with db_session:
        villages = {code: db.Unit.get(code=code).id for code in village_codes}
        connection = db.get_connection()
        columns = list(COLUMNS)
        batch = []
        for n in range(rows):
            code = village_codes[n % len(village_codes)]
            adults = rng.randint(1, 6)
            answers = {"consent": "yes", "household_number": str(n), "head_name": rng.choice(names),
                       "phone": "0912345678", "members": adults + 2, "members_15plus": adults, "adults": adults,
                       "working_age": adults, "fibre_available": rng.choice(["yes", "no"]),
                       "adults_smartphone": rng.randint(0, adults), "members_15plus_bank": 0}
            indicators = {"fibre_coverage": [1 if answers["fibre_available"] == "yes" else 0, 1],
                          "smartphone_adults": [answers["adults_smartphone"], adults],
                          "bank_account_15plus": [rng.randint(0, adults), adults]}
            for name in EXTRA_INDICATORS:
                indicators[name] = [rng.randint(0, adults), adults]
            at = start + timedelta(seconds=n)
            values = {"instance_id": str(uuid.UUID(int=rng.getrandbits(128))), "form_id": "household_digital",
                      "form_version": version, "village": villages[code], "village_code": code,
                      "household_key": f"h{n}", "round": "2025", "collected_at": at, "received_at": at,
                      "seq": n + 1, "status": "accepted", "is_current": 1,
                      "answers": json.dumps(answers, ensure_ascii=False), "content_hash": f"{n:064x}",
                      "collector": "bench", "collected_on": at.date(),
                      "indicators": json.dumps(indicators), "refusal": 0}
            batch.append(tuple(values.get(c) for c in columns if c != "id"))
            if len(batch) == 20000:
                _insert(connection, columns, batch)
        _insert(connection, columns, batch)


def _insert(connection, columns, batch):
    """Write one batch of submission rows."""
    from sync.dialect import SQLITE
    from sync.submission_table import insert_statement
    connection.executemany(insert_statement(SQLITE, columns),
                           [tuple(str(v) if isinstance(v, datetime) else v for v in row) for row in batch])
    batch.clear()


def bench_store(tmp):
    """A temporary SQLite store with Gia Lai, the default form and three villages in Phú Hòa."""
    from sync import migrations
    from sync.form_versions import publish_default_form
    from sync.store import open_store
    from sync.units import import_units, load_gia_lai
    db = open_store(f"sqlite:///{tmp}/bench.db")
    migrations.upgrade(db)
    load_gia_lai(db)
    publish_default_form(db)
    codes = ["23722-01", "23722-02", "23722-03"]
    import_units(db, "code,name,level,parent_code\n" + "".join(f"{c},Làng {c[-2:]},village,23722\n" for c in codes))
    return db, codes


def drain(chunks):
    """Consume chunks into nothing, counting bytes."""
    return sum(len(chunk) for chunk in chunks)


@bench.command("export")
@click.option("-n", "--rows", default=1_000_000, show_default=True, help="Submissions to export.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@json_option
def bench_export(rows, fmt, as_json):
    """Export ROWS seeded submissions of a commune (keys: rows, rows_per_s, peak_mb; csv-module reference)."""
    from exports import tabular, tabular_columns as cols, tabular_source as source
    with tempfile.TemporaryDirectory() as tmp:
        db, codes = bench_store(tmp)
        seed_submissions(db, rows, codes)
        base_mb = peak_rss_mb()
        started = time.perf_counter()
        size = drain(tabular.export(db, "23722", fmt, round="2025", personal=True).chunks)
        elapsed = time.perf_counter() - started
        peak = peak_rss_mb()
        # Reference: the same records through the csv module, nothing else (no columns, BOM or chunks).
        columns = cols.columns(source.form_definitions(db, "household_digital"), personal=True)
        started = time.perf_counter()
        with open(os.devnull, "w", encoding="utf-8") as sink:
            writer = csv.writer(sink)
            for record in source.submissions(db, source.unit_path(db, "23722"), "household_digital", "2025"):
                writer.writerow([cols.cell_value(c, record) for c in columns])
        reference = time.perf_counter() - started
        db.disconnect()
    figures = {"rows": rows, "format": fmt, "bytes": size, "seconds": round(elapsed, 2),
               "rows_per_s": round(rows / elapsed, 1), "peak_mb": round(peak, 1),
               "peak_mb_before_export": round(base_mb, 1),
               "reference_csv_module_rows_per_s": round(rows / reference, 1),
               "ratio_to_reference": round(elapsed / reference, 2)}
    report(figures, as_json)


def bare_pdf():
    """The reference: one A4 page with one line of Vietnamese in the same embedded font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from exports import fonts
    fonts.register()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.setFont(fonts.REGULAR, 12)
    canvas.drawString(72, 720, "Báo cáo kết quả khảo sát — Huyện Chư Păh")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def timed(function, repeat):
    """The best wall time of `repeat` calls."""
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    return best


@bench.command("report")
@click.option("--households", default=50000, show_default=True,
              help="Households seeded, spread over all 218 communes.")
@click.option("--repeat", default=3, show_default=True)
@json_option
def bench_report(households, repeat, as_json):
    """Time the district (Chư Păh) and province PDFs on a seeded store (keys: district_pdf_s, province_pdf_s)."""
    from exports.pdf import unit_report
    from sync.units import list_units
    with tempfile.TemporaryDirectory() as tmp:
        db, _ = bench_store(tmp)
        communes = [u["code"] for u in list_units(db, level="commune")]
        seed_submissions(db, households, communes)
        _rebuild_sums(db)
        district = timed(lambda: unit_report(db, "627", round="2025"), repeat)
        province = timed(lambda: unit_report(db, "64", round="2025"), repeat)
        reference = timed(bare_pdf, repeat)
        pages = _page_count(unit_report(db, "64", round="2025"))
        db.disconnect()
    figures = {"district_pdf_s": round(district, 3), "province_pdf_s": round(province, 3),
               "province_pages": pages, "reference_bare_page_s": round(reference, 4),
               "district_ratio_to_reference": round(district / reference, 1),
               "province_ratio_to_reference": round(province / reference, 1)}
    report(figures, as_json)


def _rebuild_sums(db):
    """Roll-up sums for the seeded submissions, through the ingest's own rebuild."""
    from sync import tally
    tally.rebuild(db)


def _page_count(pdf):
    """Pages of a PDF (pypdf when installed, else a count of /Type /Page)."""
    return pdf.count(b"/Type /Page\n") or pdf.count(b"/Type /Page")


COMMANDS = ()
