#!/usr/bin/env bash
# The one message catalogue (forms/translations), with Babel's pybabel:
#   scripts/i18n.sh extract        # find every marked text -> forms/translations/messages.pot
#   scripts/i18n.sh update         # merge the template into every language's messages.po
#   scripts/i18n.sh init jra       # start a new language (Jrai): forms/translations/jra/LC_MESSAGES/messages.po
#   scripts/i18n.sh compile        # messages.po -> messages.mo (commit both; the tests check they agree)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=forms/translations
PYBABEL=${PYBABEL:-$( [ -x .venv/bin/pybabel ] && echo .venv/bin/pybabel || echo pybabel )}
# Texts are marked with _ / gettext / ngettext / N_ (defaults), C_(context, text) and, in server/, passed to ApiError and
# error_response as their second argument (a msgid rendered in the reader's language).
KEYWORDS=(-k ApiError:2 -k error_response:2 -k C_:1c,2)
case "${1:-}" in
  extract) "$PYBABEL" extract -F babel.cfg "${KEYWORDS[@]}" --no-wrap --no-location --sort-output --project=langso --version=0.1 \
             -o "$DIR/messages.pot" . ;;
  update)  "$PYBABEL" update -i "$DIR/messages.pot" -d "$DIR" --no-wrap --ignore-obsolete --no-fuzzy-matching ;;
  init)    "$PYBABEL" init -i "$DIR/messages.pot" -d "$DIR" -l "${2:?language code, e.g. jra}" --no-wrap ;;
  compile) "$PYBABEL" compile -d "$DIR" ;;
  *) sed -n 2,6p "$0"; exit 2 ;;
esac
