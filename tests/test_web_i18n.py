"""Every text a person reads (pages, errors, ingest items, OpenRosa, PDF words, CLI) is in the one catalogue
(forms/translations), translated into every language, compiled, and numbers are formatted per locale."""
import os

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from forms import i18n

from .browser.pages import with_pages

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSLATIONS = i18n.DIRECTORY
# as scripts/i18n.sh extracts: babel.cfg's files, Babel's default keywords and ours
METHOD_MAP = [("forms/**.py", "python"), ("sync/**.py", "python"), ("exports/**.py", "python"),
              ("server/**.py", "python"), ("server/templates/**.html", "jinja2")]
KEYWORDS = {**DEFAULT_KEYWORDS, "ApiError": (2,), "error_response": (2,), "C_": ((1, "c"), 2)}


def test_the_method_map_is_babel_cfgs():
    with open(os.path.join(ROOT, "babel.cfg"), encoding="utf-8") as handle:
        sections = [line.strip()[1:-1].split(": ") for line in handle if line.startswith("[")]
    assert [(path, method) for method, path in sections] == METHOD_MAP


def extracted_ids():
    """msgids as `scripts/i18n.sh extract` finds them in the code and templates today."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT, METHOD_MAP, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalogue(lang, kind="po"):
    path = os.path.join(TRANSLATIONS, lang, "LC_MESSAGES", f"messages.{kind}")
    with open(path, "rb") as handle:
        return read_po(handle, locale=lang) if kind == "po" else read_mo(handle)


def ids(cat):
    return {m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id}


def test_vietnamese_and_english_have_catalogues_and_a_new_language_is_one_more():
    assert set(i18n.languages()) >= {"vi", "en"}
    assert set(i18n.languages()) == set(os.listdir(TRANSLATIONS)) - {"messages.pot"}


@pytest.mark.parametrize("lang", i18n.languages())
def test_every_text_is_translated_and_compiled(lang):
    source, po, mo = extracted_ids(), catalogue(lang), catalogue(lang, "mo")
    assert source - ids(po) == set(), "run scripts/i18n.sh extract and update, and translate the new texts"
    untranslated = [m.id for m in po if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    assert untranslated == []
    assert not [m.id for m in po if m.id and m.fuzzy], "fuzzy entries are not used: check and unmark them"
    assert ids(po) == ids(mo), "run scripts/i18n.sh compile"
    assert strings(po) == strings(mo)


@pytest.mark.parametrize("lang", i18n.languages())
def test_the_compiled_catalogue_is_what_the_po_file_compiles_to(lang, tmp_path):
    fresh = tmp_path / "messages.mo"
    with open(fresh, "wb") as handle:
        write_mo(handle, catalogue(lang))
    with open(fresh, "rb") as handle:
        assert strings(read_mo(handle)) == strings(catalogue(lang, "mo")), "run scripts/i18n.sh compile"


@pytest.mark.parametrize("lang", i18n.languages())
def test_python_format_placeholders_agree(lang):
    po = catalogue(lang)
    assert [(m.id, [str(e) for e in errors]) for m, errors in po.check()] == []


def strings(cat):
    """{msgid: translation} with plural forms as tuples (comparable)."""
    def frozen(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value
    return {(m.context, frozen(m.id)): frozen(m.string) for m in cat if m.id}


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
