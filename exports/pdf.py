"""Vietnamese PDF reports for any unit: its indicators against targets, its children, charts.

`render_report(report, ...)` turns roll-up dicts into PDF bytes and knows nothing of the
database, so it is tested on roll-ups built by hand; `unit_report(db, unit_code, ...)`
gathers the roll-ups (`exports.rollups.rollup`) and renders them. A report on the top of
the tree (the province) adds a page per child (each district with its communes).

Output is reproducible: reportlab's invariant mode plus the creation date passed in, so
the same data and date give byte-identical files that can be compared and cached.
"""
import io
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer

from . import fonts, pdf_tables as tables, pdf_text as text
from .pdf_chart import bar_charts

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
CORE_INDICATORS = ("fibre_coverage", "smartphone_adults", "bank_account_15plus")
PLACE = "Gia Lai"


def as_datetime(value):
    """A UTC datetime from a date or datetime (None: today at midnight, so a day's reports match)."""
    if value is None:
        value = datetime.now(UTC).date()
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def canvas_maker(lang, created_at, title):
    """A Canvas class that fixes the creation date and draws "page X/N" and the method note on each page."""
    words = text.words(lang)

    class ReportCanvas(Canvas):
        """Keeps each page's state until the end, when the page count is known."""

        def __init__(self, *args, **kwargs):
            kwargs.update(invariant=1, initialFontName=fonts.REGULAR, initialFontSize=9)
            super().__init__(*args, **kwargs)
            stamp = self._doc._timeStamp
            stamp.t = created_at.timestamp()
            stamp.lt = created_at.timetuple()
            stamp.YMDhms = tuple(stamp.lt)[:6]
            self.setTitle(title)
            self.setAuthor("langso")
            self._pages = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _decorate(self, total):
            number = self._pageNumber
            self.saveState()
            self.setStrokeColorRGB(0.6, 0.6, 0.6)
            self.setLineWidth(0.4)
            self.line(MARGIN, 15 * mm, PAGE_WIDTH - MARGIN, 15 * mm)
            note = Paragraph(escape(fonts.nfc(words["footer"])), tables.STYLES["small"])
            _, height = note.wrap(CONTENT_WIDTH - 60, 20 * mm)
            note.drawOn(self, MARGIN, 15 * mm - 2 - height)
            self.setFont(fonts.REGULAR, 8)
            self.drawRightString(PAGE_WIDTH - MARGIN, 15 * mm - 10,
                                 words["page"].format(page=number, pages=total))
            if number > 1:
                self.setFont(fonts.ITALIC, 7.5)
                self.drawString(MARGIN, PAGE_HEIGHT - 11 * mm, fonts.nfc(title))
            self.restoreState()

    return ReportCanvas


def core_indicators(rollup):
    """Positions of the core indicators (fibre, smartphone, bank account), else the first three."""
    ids = [figure["id"] for figure in rollup["indicators"]]
    found = [ids.index(core) for core in CORE_INDICATORS if core in ids]
    return found or list(range(min(3, len(ids))))


def charts(rollup, lang, small_threshold):
    """One bar chart per core indicator over the unit and its children, each kept on one page."""
    out = []
    for position in core_indicators(rollup):
        figure = rollup["indicators"][position]
        rows = [(text.words(lang)["total"].format(unit=rollup["unit"]["name"]), figure, True)]
        rows += [(child["unit"]["name"], child["indicators"][position], False)
                 for child in rollup.get("children") or [] if position < len(child["indicators"])]
        heading = tables.para(f"({position + 1}) {tables.label(figure, lang)}", "cell_bold")
        drawings = bar_charts(rows, figure.get("targets") or [], CONTENT_WIDTH, lang, small_threshold)
        out.append(KeepTogether([heading, Spacer(1, 2), drawings[0], Spacer(1, 8)]))
        out += [item for drawing in drawings[1:] for item in (drawing, Spacer(1, 8))]
    return out


def method(lang, small_threshold):
    """The method section: ratio of sums, latest submission per household, coverage, marks."""
    words = text.words(lang)
    return heading(words, "method") + [
        tables.para(line.format(n=small_threshold), "body") for line in words["method_text"]]


def heading(words, key, **values):
    """A section heading that never ends a page alone (a page break when less than 5 cm is left)."""
    return [CondPageBreak(50 * mm), tables.para(words[key].format(**values), "section")]


def unit_section(rollup, lang, small_threshold, with_charts):
    """Summary, level tables (and charts) of one unit."""
    words = text.words(lang)
    story = heading(words, "summary") + [tables.summary_table(rollup, lang, CONTENT_WIDTH)]
    story += heading(words, "levels", level=tables.level_name(rollup, lang))
    story += tables.level_tables(rollup, lang, CONTENT_WIDTH)
    story += tables.notes(rollup, lang, small_threshold)
    if with_charts and rollup.get("children") is not None:
        story += heading(words, "charts") + charts(rollup, lang, small_threshold)
    return story


def detail_pages(sections, lang, generated_on, small_threshold):
    """A page (or more) per child: its facts, indicators and its own children."""
    story = []
    for section in sections:
        story += [PageBreak(), tables.para(section["unit"]["name"], "unit_heading"),
                  tables.facts(section, lang, generated_on, small_threshold)]
        story += unit_section(section, lang, small_threshold, with_charts=False)
    return story


def render_report(report, lang="vi", generated_on=None, small_threshold=5):
    """PDF bytes for `report` = {"rollup", "parent_name"?, "sections"? (child roll-ups for detail pages)}."""
    fonts.register()
    lang = lang if lang in text.LANGUAGES else "vi"
    created_at = as_datetime(generated_on)
    rollup = report["rollup"]
    title = f"{text.words(lang)['title']} – {rollup['unit']['name']}"
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
                                 topMargin=15 * mm, bottomMargin=24 * mm, invariant=1,
                                 title=fonts.nfc(title), author="langso", creator="langso")
    day = created_at.date()
    story = tables.title_block(dict(report, place=report.get("place", PLACE)), lang, day, CONTENT_WIDTH)
    story += [tables.facts(rollup, lang, day, small_threshold)]
    story += unit_section(rollup, lang, small_threshold, with_charts=True)
    story += method(lang, small_threshold)
    story += detail_pages(report.get("sections") or [], lang, day, small_threshold)
    document.build(story, canvasmaker=canvas_maker(lang, created_at, fonts.nfc(title)))
    return buffer.getvalue()


def gather(db, unit_code, round=None, lang="vi", form_id="household_digital", small_threshold=5):
    """The roll-ups a report on `unit_code` needs: the unit's, and each child's when it is the top unit."""
    from pony.orm import db_session

    from sync.units import get_unit

    from .rollups import rollup
    main = rollup(db, unit_code, form_id=form_id, round=round, lang=lang, small_threshold=small_threshold)
    with db_session:
        unit = get_unit(db, unit_code)
        parent_name = unit.parent.name if unit.parent else None
        top = unit.parent is None
    sections = []
    if top:
        sections = [rollup(db, child["unit"]["code"], form_id=form_id, round=main["round"], lang=lang,
                           small_threshold=small_threshold) for child in main["children"]]
    return {"rollup": main, "parent_name": parent_name, "sections": sections}


def unit_report(db, unit_code, round=None, lang="vi", generated_on=None, form_id="household_digital",
                small_threshold=5):
    """PDF bytes of the report on `unit_code` for one round (None: all rounds)."""
    report = gather(db, unit_code, round, lang, form_id, small_threshold)
    return render_report(report, lang, generated_on, small_threshold)
