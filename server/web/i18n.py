"""Page language (Vietnamese by default, English switchable) and locale-aware number and date formats."""
from babel.numbers import format_decimal
from flask import request, session
from flask_babel import Babel, format_datetime, get_locale

from forms import i18n

LANGUAGES = i18n.languages()
DEFAULT_LANGUAGE = i18n.DEFAULT_LANGUAGE
TIMEZONE = "Asia/Ho_Chi_Minh"


API_PREFIXES = ("/api/", "/odk/")


def select_language():
    """Pages: the language chosen with /lang/<code> (kept in the session), else Vietnamese.
    API and ODK replies: ?lang=, else the best of Accept-Language, else Vietnamese."""
    if request.path.startswith(API_PREFIXES):
        asked = request.args.get("lang")
        if asked in LANGUAGES:
            return asked
        return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return DEFAULT_LANGUAGE


def current_language():
    """"vi" or "en" for the current request (what roll-up labels are asked in)."""
    return str(get_locale() or DEFAULT_LANGUAGE)


def percent(value, digits=1):
    """A percentage as the locale writes it: vi "54,3 %", en "54.3%"; a dash when there is no value."""
    if value is None:
        return "–"
    text = format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0",
                          locale=current_language())
    return f"{text}\u00a0%" if current_language() == "vi" else f"{text}%"


def number(value, digits=0):
    """A count or decimal with the locale's separators (vi 12.345; en 12,345)."""
    if value is None:
        return "–"
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    if not digits and isinstance(value, float) and not value.is_integer():
        pattern = "#,##0.##"
    return format_decimal(value, format=pattern, locale=current_language())


def when(value):
    """A stored UTC time shown in Gia Lai's time zone, in the locale's medium format."""
    if value is None:
        return "–"
    return format_datetime(value, "short" if request.args.get("compact") else "medium")


def init_app(app):
    """Flask-Babel on the one catalogue (forms/translations) and the formatting filters."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = i18n.DIRECTORY
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    Babel(app, locale_selector=select_language)
    app.jinja_env.filters.update(percent=percent, number=number, when=when)
