"""A horizontal bar chart of one indicator across units, with its target lines.

One bar per unit (percent 0-100), the unit's own total as the first bar, a solid line at
the 2025 target and a dashed one at 2030. Small-number bars are drawn pale and marked *;
units without data get a "–" instead of a bar.
"""
from reportlab.graphics.shapes import Drawing, Group, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from . import pdf_text as text
from .fonts import BOLD, REGULAR, nfc

BAR = colors.HexColor("#2E6DA4")
BAR_TOTAL = colors.HexColor("#17406A")
BAR_SMALL = colors.HexColor("#A9C4DE")
TARGET_COLOURS = (colors.HexColor("#C0392B"), colors.HexColor("#7D3C98"))
ROW, FONT_SIZE, LABEL_WIDTH, AXIS = 11.5, 7, 120, 14
ROWS_PER_CHART = 48  # a taller drawing would not fit an A4 page; more units continue in a second one


def bar_charts(rows, targets, width, lang="vi", small_threshold=5):
    """Drawings of at most ROWS_PER_CHART bars each, together covering all `rows`."""
    return [bar_chart(rows[start:start + ROWS_PER_CHART], targets, width, lang, small_threshold)
            for start in range(0, max(len(rows), 1), ROWS_PER_CHART)]


def fit(label, width, font=REGULAR, size=FONT_SIZE):
    """`label` shortened with "…" so it fits `width` points."""
    label = nfc(label)
    if stringWidth(label, font, size) <= width:
        return label
    while label and stringWidth(label + "…", font, size) > width:
        label = label[:-1]
    return label.rstrip() + "…"


def bar_chart(rows, targets, width, lang="vi", small_threshold=5):
    """A Drawing: `rows` are (label, indicator figure, is_total); `targets` the indicator's targets."""
    height = AXIS + ROW * len(rows) + 16
    drawing = Drawing(width, height, initialFontName=REGULAR, initialFontSize=FONT_SIZE)
    plot_x, plot_w = LABEL_WIDTH + 6, width - LABEL_WIDTH - 40
    top = height - 16
    _axis(drawing, plot_x, plot_w, top, len(rows), lang)
    _target_lines(drawing, plot_x, plot_w, top, len(rows), targets, lang)
    for index, (label, figure, is_total) in enumerate(rows):
        y = top - ROW * (index + 1)
        font = BOLD if is_total else REGULAR
        drawing.add(String(plot_x - 4, y + 3, fit(label, LABEL_WIDTH, font), fontName=font,
                           fontSize=FONT_SIZE, textAnchor="end"))
        drawing.add(_bar(plot_x, plot_w, y, figure, is_total, lang))
    return drawing


def _bar(plot_x, plot_w, y, figure, is_total, lang):
    """The bar and its value label (on white, over the target lines) for one unit."""
    group = Group()
    share = figure.get("percent")
    if share is None:
        group.add(String(plot_x + 2, y + 3, "–", fontName=REGULAR, fontSize=FONT_SIZE))
        return group
    length = plot_w * max(0.0, min(share, 100.0)) / 100.0
    colour = BAR_TOTAL if is_total else (BAR if figure.get("reliable", True) else BAR_SMALL)
    group.add(Rect(plot_x, y + 1, length, ROW - 3, fillColor=colour, strokeColor=None))
    mark = "" if figure.get("reliable", True) else "*"
    value = text.percent(share, lang) + mark
    font = BOLD if is_total else REGULAR
    group.add(Rect(plot_x + length + 2, y + 1, stringWidth(value, font, FONT_SIZE) + 2, ROW - 3,
                   fillColor=colors.white, strokeColor=None))
    group.add(String(plot_x + length + 3, y + 3, value, fontName=font, fontSize=FONT_SIZE))
    return group


def _axis(drawing, plot_x, plot_w, top, count, lang):
    """The 0-100% axis under the bars, with light grid lines every 20 points."""
    bottom = top - ROW * count
    for tick in range(0, 101, 20):
        x = plot_x + plot_w * tick / 100.0
        drawing.add(Line(x, bottom, x, top, strokeColor=colors.HexColor("#DDDDDD"), strokeWidth=0.4))
        drawing.add(String(x, bottom - 9, text.number(tick, lang) + "%", fontName=REGULAR,
                           fontSize=6.5, textAnchor="middle"))
    drawing.add(Line(plot_x, bottom, plot_x + plot_w, bottom, strokeColor=colors.grey, strokeWidth=0.6))


def _target_lines(drawing, plot_x, plot_w, top, count, targets, lang):
    """A vertical line per target year (2025 solid, 2030 dashed) with its legend above the plot."""
    bottom = top - ROW * count
    legend_x = plot_x
    for index, target in enumerate(targets[:2]):
        if target.get("value") is None:
            continue
        colour = TARGET_COLOURS[index % 2]
        x = plot_x + plot_w * float(target["value"]) / 100.0
        drawing.add(Line(x, bottom, x, top + 2, strokeColor=colour, strokeWidth=1.2,
                         strokeDashArray=None if index == 0 else [3, 2]))
        label = text.words(lang)["target_line"].format(
            year=target["year"], value=text.target(target["op"], target["value"], lang))
        drawing.add(Line(legend_x, top + 8, legend_x + 14, top + 8, strokeColor=colour, strokeWidth=1.2,
                         strokeDashArray=None if index == 0 else [3, 2]))
        drawing.add(String(legend_x + 17, top + 5.5, nfc(label), fontName=REGULAR, fontSize=FONT_SIZE))
        legend_x += 30 + stringWidth(nfc(label), REGULAR, FONT_SIZE)
