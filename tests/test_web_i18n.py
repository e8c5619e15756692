"""Every page text is in the one catalogue, translated into Vietnamese and English, compiled, and
numbers are formatted per locale (vi: 54,3 %)."""
import os

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import server

from .browser.pages import with_pages

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSLATIONS = os.path.join(os.path.dirname(server.__file__), "translations")
METHOD_MAP = [("server/web/**.py", "python"), ("server/templates/**.html", "jinja2")]


def extracted_ids():
    """msgids as `pybabel extract -F babel.cfg` finds them in the code and templates today."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT, METHOD_MAP):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalogue(lang, kind="po"):
    path = os.path.join(TRANSLATIONS, lang, "LC_MESSAGES", f"messages.{kind}")
    with open(path, "rb") as handle:
        return read_po(handle, locale=lang) if kind == "po" else read_mo(handle)


def ids(cat):
    return {m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_page_text_is_translated_and_compiled(lang):
    source, po, mo = extracted_ids(), catalogue(lang), catalogue(lang, "mo")
    assert source - ids(po) == set(), "run pybabel extract/update and translate the new texts"
    untranslated = [m.id for m in po if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    assert untranslated == []
    assert ids(po) == ids(mo), "run pybabel compile -d server/translations"
    assert strings(po) == strings(mo)


def strings(cat):
    """{msgid: translation} with plural forms as tuples (comparable)."""
    def frozen(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value
    return {frozen(m.id): frozen(m.string) for m in cat if m.id}


def test_percentages_and_counts_follow_the_locale(app):
    from flask import session

    from server.web.i18n import number, percent
    app = with_pages(app)
    with app.test_request_context("/"):
        assert percent(54.321) == "54,3\u00a0%" and number(12345) == "12.345" and percent(None) == "–"
        session["lang"] = "en"
        from flask_babel import refresh
        refresh()
        assert percent(54.321) == "54.3%" and number(12345) == "12,345"
