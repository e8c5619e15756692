"""Words and number formats of the reports, in Vietnamese (default) and English.

Numbers follow the reader's language: Vietnamese writes 54,3% and 12.345 (comma for
decimals, dot for thousands), English 54.3% and 12,345. Tests format the roll-up's numbers
with these same functions and look for the result in the PDF's text.
"""
from functools import cache

from forms.i18n import C_, languages, translate

LANGUAGES = languages()

WORDS = {  # key -> msgid (English) of the one catalogue (forms/translations); str.format fields
    'committee': C_("report", "PEOPLE'S COMMITTEE"),
    'committee_short': C_("report", 'PC'),
    'nation': C_("report", 'SOCIALIST REPUBLIC OF VIET NAM'),
    'motto': C_("report", 'Independence - Freedom - Happiness'),
    'dated': C_("report", '{y}-{m:02d}-{d:02d}'),
    'title': C_("report", 'HOUSEHOLD DIGITAL TRANSFORMATION SURVEY REPORT'),
    'subtitle': C_("report", "Implementing Plan 1331/KH-UBND of 22 June 2022 of the Gia Lai People's Committee"),
    'round': C_("report", 'Survey round'),
    'all_rounds': C_("report", 'all rounds'),
    'generated': C_("report", 'Generated on'),
    'unit': C_("report", 'Unit'),
    'households': C_("report", 'Households surveyed'),
    'refusals': C_("report", 'Households refusing'),
    'expected': C_("report", 'Households expected'),
    'coverage': C_("report", 'Survey coverage'),
    'unknown': C_("report", 'unknown'),
    'summary': C_("report", 'I. INDICATORS AGAINST THE 2025 AND 2030 TARGETS'),
    'levels': C_("report", 'II. RESULTS BY SUBORDINATE UNIT ({level})'),
    'charts': C_("report", 'III. CHARTS OF THE CORE INDICATORS'),
    'method': C_("report", 'IV. METHOD'),
    'districts_pages': C_("report", 'DETAILED RESULTS BY UNIT'),
    'no': C_("report", 'No.'),
    'indicator': C_("report", 'Indicator'),
    'result': C_("report", 'Result'),
    'counts': C_("report", 'Numerator/Denominator'),
    'target': C_("report", 'Target {year}'),
    'status': C_("report", 'Status'),
    'gap': C_("report", 'Gap (points)'),
    'met': C_("report", 'Met'),
    'not_met': C_("report", 'Not met'),
    'no_data': C_("report", 'No data'),
    'hh': C_("report", 'Households'),
    'cov': C_("report", 'Coverage'),
    'name': C_("report", 'Unit name'),
    'total': C_("report", 'All of {unit}'),
    'target_line': C_("report", 'Target line {year}: {value}'),
    'no_children': C_("report", 'No subordinate units.'),
    'small': C_("report", '* Fewer than {n} households: not yet reliable.'),
    'nodata_mark': C_("report", '– No data.'),
    'no_submissions': C_("report", 'Villages without any submission: {count}.'),
    'page': C_("report", 'Page {page}/{pages}'),
    'footer': C_("report", 'Percentage = sum of numerators / sum of denominators over the households counted '
                           '(a ratio of sums, not an average of percentages); latest submission per household.'),
    'method_text': [
        C_("report", 'Every percentage at commune, district and province level is a ratio of sums: the sum of '
                     'numerators over the sum of denominators of all households counted in the unit, never an '
                     'average of village percentages.'),
        C_("report", 'Each household counts once per round, by its latest accepted submission; '
                     'superseded submissions are not counted.'),
        C_("report", 'Survey coverage = households surveyed / households expected, '
                     'over the villages whose expected count is known.'),
        C_("report", 'Cells marked * rest on fewer than {n} households and are not yet reliable; – means no data.'),
    ],
}


@cache
def words(lang):
    """The report vocabulary for `lang` (Vietnamese when unknown), from the catalogue."""
    return {key: [translate(m, lang) for m in msgid] if isinstance(msgid, list) else translate(msgid, lang)
            for key, msgid in WORDS.items()}


def number(value, lang="vi", decimals=0):
    """A number with the language's thousands and decimal separators (None: "–")."""
    if value is None:
        return "–"
    text = f"{value:,.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def percent(value, lang="vi"):
    """A percentage with one decimal ("54,3%"), or "–" for no data."""
    return "–" if value is None else number(value, lang, 1) + "%"


def count(value, lang="vi"):
    """A count of households or people; fractional sums keep one decimal."""
    if value is None:
        return "–"
    return number(value, lang, 0 if float(value).is_integer() else 1)


def ratio(numerator, denominator, lang="vi"):
    """"54/100" with the language's separators."""
    return f"{count(numerator, lang)}/{count(denominator, lang)}"


def gap(points, lang="vi"):
    """A signed gap in percentage points ("+4,0", "−12,5"), or "–"."""
    if points is None:
        return "–"
    sign = "+" if points >= 0 else "−"
    return sign + number(abs(points), lang, 1)


def target(op, value, lang="vi"):
    """A target as written in the plan: "≥ 80%" or "> 95%"."""
    if value is None:
        return "–"
    symbol = "≥" if op == ">=" else ">"
    return f"{symbol} {number(value, lang, 0 if float(value).is_integer() else 1)}%"


def status(name, lang="vi"):
    """"Đạt" / "Chưa đạt" / "Chưa có số liệu" (or English)."""
    return words(lang)[name]
