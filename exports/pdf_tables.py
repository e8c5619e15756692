"""The blocks of a report page: title block, facts, indicator summary and the per-level tables.

Every text goes through `fonts.nfc` and is XML-escaped before it becomes a Paragraph.
Numbers are formatted by `pdf_text`, so tests can look for exactly these strings.
"""
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from . import pdf_text as text
from .fonts import BOLD, ITALIC, REGULAR, nfc

GRID = colors.HexColor("#9A9A9A")
HEAD = colors.HexColor("#E8EEF5")
TOTAL = colors.HexColor("#F4F4F4")
STATUS_COLOURS = {"met": colors.HexColor("#1E7B34"), "not_met": colors.HexColor("#B03A2E"),
                  "no_data": colors.HexColor("#666666")}
LEVEL_NAMES = {"vi": {"province": "cấp tỉnh", "district": "cấp huyện", "commune": "cấp xã",
                      "village": "thôn, làng, tổ dân phố"},
               "en": {"province": "provinces", "district": "districts", "commune": "communes",
                      "village": "villages"}}
FIRST_GROUP = 5  # indicators 1-5 in the first level table, the rest in the second


def style(name, size=9, font=REGULAR, align=TA_LEFT, leading=None, **extra):
    """A paragraph style in the report font."""
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading or size * 1.25,
                          alignment=align, **extra)


STYLES = {
    "body": style("body", 9.5), "small": style("small", 7.5), "cell": style("cell", 7.5),
    "cell_bold": style("cell_bold", 7.5, BOLD), "head": style("head", 7, BOLD, TA_CENTER),
    "issuer": style("issuer", 10, BOLD, TA_CENTER, 13), "issuer_top": style("issuer_top", 10, REGULAR, TA_CENTER, 13),
    "date": style("date", 9.5, ITALIC, TA_CENTER),
    "title": style("title", 14, BOLD, TA_CENTER, 18, spaceBefore=14, spaceAfter=2),
    "subtitle": style("subtitle", 9.5, ITALIC, TA_CENTER, spaceAfter=10),
    "section": style("section", 10.5, BOLD, TA_LEFT, spaceBefore=10, spaceAfter=5),
    "unit_heading": style("unit_heading", 13, BOLD, TA_LEFT, spaceBefore=0, spaceAfter=6),
}


def para(value, style_name="body"):
    """A Paragraph of NFC, escaped text."""
    return Paragraph(escape(nfc(value)), STYLES[style_name])


def upper(value):
    """Vietnamese-aware upper case of NFC text (ư → Ư, đ → Đ)."""
    return nfc(value).upper()


def title_block(report, lang, generated_on, width):
    """The administrative heading: issuing committee left, national motto right, then the title."""
    w, unit = text.words(lang), report["rollup"]["unit"]
    left = []
    if report.get("parent_name"):
        left.append(para(f"{w['committee_short']} {upper(report['parent_name'])}", "issuer_top"))
    left += [para(w["committee"], "issuer"), para(upper(unit["name"]), "issuer")]
    dated = w["dated"].format(d=generated_on.day, m=generated_on.month, y=generated_on.year)
    right = [para(w["nation"], "issuer"), para(w["motto"], "issuer"), Spacer(1, 4),
             para(f"{report.get('place') or ''}, {dated}" if report.get("place") else dated, "date")]
    heading = Table([[left, right]], colWidths=[width * 0.42, width * 0.58])
    heading.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                                 ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return [heading, para(w["title"], "title"), para(w["subtitle"], "subtitle")]


def facts(rollup, lang, generated_on, small_threshold):
    """Unit, round, generation date, households surveyed, refusals, expected and coverage."""
    w = text.words(lang)
    round_name = rollup.get("round") or w["all_rounds"]
    expected = rollup.get("expected_households")
    rows = [
        (w["unit"], f"{rollup['unit']['name']} ({rollup['unit']['code']})"),
        (w["round"], round_name),
        (w["generated"], generated_on.strftime("%d/%m/%Y") if lang == "vi" else generated_on.isoformat()),
        (w["households"], text.count(rollup.get("households"), lang)),
        (w["refusals"], text.count(rollup.get("refusals"), lang)),
        (w["expected"], text.count(expected, lang) if expected is not None else w["unknown"]),
        (w["coverage"], text.percent(rollup.get("coverage"), lang) if rollup.get("coverage") is not None
         else w["unknown"]),
    ]
    table = Table([[para(k + ":", "cell_bold"), para(v, "cell")] for k, v in rows], colWidths=[140, 300],
                  hAlign="LEFT")
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), REGULAR), ("TOPPADDING", (0, 0), (-1, -1), 1),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _target_cells(figure, year_index, lang):
    """Target, status and gap cells for one indicator and the n-th target year."""
    targets = figure.get("targets") or []
    if year_index >= len(targets):
        return ["–", "–", "–"]
    target = targets[year_index]
    return [text.target(target["op"], target["value"], lang), text.status(target["status"], lang),
            text.gap(target.get("gap"), lang)]


def target_years(rollup):
    """The target years named by the indicators (normally 2025 and 2030), at most two."""
    years = sorted({t["year"] for figure in rollup["indicators"] for t in figure.get("targets") or []})
    return years[:2] or ["2025", "2030"]


def summary_table(rollup, lang, width):
    """The nine indicators of the unit against the 2025 and 2030 targets (met / not met / no data, gap)."""
    w = text.words(lang)
    years = target_years(rollup)
    head = [w["no"], w["indicator"], w["result"], w["counts"]]
    for year in years:
        head += [w["target"].format(year=year), w["status"], w["gap"]]
    data = [[para(h, "head") for h in head]]
    styles = []
    for index, figure in enumerate(rollup["indicators"], start=1):
        mark = "" if figure.get("reliable", True) or figure.get("percent") is None else "*"
        row = [str(index), para(label(figure, lang), "cell"), text.percent(figure.get("percent"), lang) + mark,
               text.ratio(figure.get("numerator"), figure.get("denominator"), lang)]
        for year_index in range(len(years)):
            cells = _target_cells(figure, year_index, lang)
            row += cells
            status_col = 4 + 3 * year_index + 1
            targets = figure.get("targets") or []
            status_name = targets[year_index]["status"] if year_index < len(targets) else "no_data"
            styles.append(("TEXTCOLOR", (status_col, index), (status_col, index),
                           STATUS_COLOURS.get(status_name, colors.black)))
            styles.append(("FONTNAME", (status_col, index), (status_col, index), BOLD))
        data.append(row)
    fixed = [18, 42, 62] + [38, 44, 36] * len(years)
    widths = [fixed[0], width - sum(fixed)] + fixed[1:]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(base_grid() + styles))
    return table


def label(figure, lang):
    """An indicator's label in `lang`, falling back to Vietnamese, then its id."""
    labels = figure.get("label") or {}
    return labels.get(lang) or labels.get("vi") or figure.get("id", "")


def base_grid():
    """Table commands shared by all data tables: font, grid, header shading, alignment."""
    return [("FONTNAME", (0, 0), (-1, -1), REGULAR), ("FONTSIZE", (0, 0), (-1, -1), 7.5),
            ("LEADING", (0, 0), (-1, -1), 9), ("GRID", (0, 0), (-1, -1), 0.4, GRID),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (2, 1), (-1, -1), "RIGHT"), ("ALIGN", (0, 1), (0, -1), "CENTER"),
            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]


def cell(figure, lang):
    """A level-table cell: percent (marked * when small, – when no data) over numerator/denominator."""
    if figure is None or figure.get("percent") is None:
        return "–"
    mark = "" if figure.get("reliable", True) else "*"
    return f"{text.percent(figure['percent'], lang)}{mark}\n" \
           f"{text.ratio(figure['numerator'], figure['denominator'], lang)}"


def level_name(rollup, lang):
    """The children's level as words ("cấp xã"), from the data."""
    level = rollup["children"][0]["unit"]["level"] if rollup.get("children") else ""
    return LEVEL_NAMES.get(lang, LEVEL_NAMES["vi"]).get(level, level)


def level_tables(rollup, lang, width):
    """The children of the unit with each indicator's percent and counts; the unit's total first.

    Two tables (indicators 1-5 with households and coverage, then 6-9) keep A4 portrait readable;
    each repeats its header on every page.
    """
    if not rollup.get("children"):
        return [para(text.words(lang)["no_children"], "small")]
    indicators = rollup["indicators"]
    groups = [range(0, min(FIRST_GROUP, len(indicators))), range(FIRST_GROUP, len(indicators))]
    out = []
    for number, group in enumerate(groups):
        if len(group):
            out += [_level_table(rollup, lang, width, list(group), with_counts=number == 0), Spacer(1, 8)]
    return out


def _level_table(rollup, lang, width, group, with_counts):
    """One level table over the indicators at positions `group`."""
    w = text.words(lang)
    head = [w["no"], w["name"]] + ([w["hh"], w["cov"]] if with_counts else [])
    head_cells = [para(h, "head") for h in head]
    for position in group:
        figure = rollup["indicators"][position]
        head_cells.append(para(f"({position + 1}) {label(figure, lang)}", "head"))
    rows = [head_cells]
    units = [(None, rollup, True)] + [(i, child, False) for i, child in enumerate(rollup["children"], start=1)]
    for index, unit_rollup, is_total in units:
        name = w["total"].format(unit=unit_rollup["unit"]["name"]) if is_total else unit_rollup["unit"]["name"]
        row = ["" if index is None else str(index), para(name, "cell_bold" if is_total else "cell")]
        if with_counts:
            row += [text.count(unit_rollup.get("households"), lang), text.percent(unit_rollup.get("coverage"), lang)]
        row += [cell(unit_rollup["indicators"][p] if p < len(unit_rollup["indicators"]) else None, lang)
                for p in group]
        rows.append(row)
    fixed = [18] + ([40, 38] if with_counts else [])
    columns = width - sum(fixed)
    indicator_width = min(66.0, (columns - 100) / len(group))
    name_width = columns - indicator_width * len(group)
    widths = [18, name_width] + fixed[1:] + [indicator_width] * len(group)
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(base_grid() + [("BACKGROUND", (0, 1), (-1, 1), TOTAL),
                                             ("FONTNAME", (0, 1), (-1, 1), BOLD)]))
    return table


def notes(rollup, lang, small_threshold):
    """The legend under the tables: small numbers, no data, villages still without submissions."""
    w = text.words(lang)
    lines = [w["small"].format(n=small_threshold), w["nodata_mark"]]
    missing = rollup.get("villages_without_submissions") or []
    if missing:
        lines.append(w["no_submissions"].format(count=len(missing)))
    return [para(line, "small") for line in lines]
