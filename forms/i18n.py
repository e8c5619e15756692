"""The one message catalogue: every text a person reads, in every language langso speaks.

The catalogue is gettext's: `forms/translations/<lang>/LC_MESSAGES/messages.po` (compiled to
`.mo`), with English msgids. Pages use it through flask-babel (server/web/i18n.py points
BABEL_TRANSLATION_DIRECTORIES here); everything else (domain errors, ingest item errors,
OpenRosa replies, PDF words, CLI output) through `translate` below, which needs no Flask.

Domain code marks a text with `N_` (a no-op that `pybabel extract` finds) and renders it
where it is shown, in the reader's language: `translate(N_("no unit %(code)s"), "vi", code=c)`.
A language is available when its compiled catalogue exists; anything else reads Vietnamese.
"""
from __future__ import annotations

import os
from functools import cache
from typing import Any

from babel.support import NullTranslations, Translations

DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translations")
DOMAIN = "messages"
DEFAULT_LANGUAGE = "vi"
SOURCE_LANGUAGE = "en"  # msgids are English


def N_(msgid: str) -> Any:
    """Mark `msgid` for extraction without translating it (it is translated where it is shown)."""
    return msgid


def C_(context: Any, msgid: str) -> tuple:
    """Mark `msgid` with a context (msgctxt), for a word that reads differently in one place (a report's
    "Status" is not a page's); `translate` accepts the pair."""
    return (context, msgid)


@cache
def languages() -> Any:
    """The languages with a compiled catalogue, Vietnamese first ("vi", "en", ...)."""
    found = sorted(name for name in os.listdir(DIRECTORY)
                   if os.path.isfile(os.path.join(DIRECTORY, name, "LC_MESSAGES", DOMAIN + ".mo")))
    return tuple(sorted(found, key=lambda name: name != DEFAULT_LANGUAGE))


def language(lang: str) -> Any:
    """`lang` ("vi", "en-US", "vi_VN") as one of `languages()`; Vietnamese when unknown."""
    if isinstance(lang, str):
        code = lang.replace("-", "_").split("_")[0].lower()
        if code in languages():
            return code
    return DEFAULT_LANGUAGE


@cache
def catalogue(lang: str) -> Any:
    """The compiled translations of a language (cached for the process)."""
    found = Translations.load(DIRECTORY, [language(lang)], DOMAIN)
    return found if isinstance(found, Translations) else NullTranslations()


def translate(msgid: str, lang: str = DEFAULT_LANGUAGE, **params: Any) -> Any:
    """`msgid` (or a (context, msgid) pair from `C_`) in `lang`, with its %(name)s parameters filled in."""
    if isinstance(msgid, tuple):
        text = catalogue(lang).pgettext(*msgid)
    else:
        text = catalogue(lang).gettext(msgid) if msgid else ""
    return text % params if params else text


def translate_plural(singular: Any, plural: Any, n: int, lang: str = DEFAULT_LANGUAGE, **params: Any) -> Any:
    """The plural form for `n` in `lang`; `num` is `n` unless given."""
    text = catalogue(lang).ngettext(singular, plural, n)
    return text % {"num": n, **params}


def environment_language(environ: Any | None = None) -> Any:
    """The CLI's language: LANGSO_LANG, else the locale (LANGUAGE, LC_ALL, LC_MESSAGES, LANG) when it
    is one we have; English otherwise, as the command line always spoke."""
    environ = os.environ if environ is None else environ
    for name in ("LANGSO_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = (environ.get(name) or "").split(":")[0]
        code = value.replace("-", "_").split("_")[0].split(".")[0].lower()
        if code in languages():
            return code
    return SOURCE_LANGUAGE
