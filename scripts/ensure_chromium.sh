#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (never a downloaded browser build): install it, and a
# monospaced font with Vietnamese letters for the form editor, with apt-get when missing.
set -euo pipefail
packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium fonts-dejavu-core)
fc-list 'Noto Sans Mono' 2>/dev/null | grep -q . || packages+=(fonts-noto-mono)
if [ "${#packages[@]}" -eq 0 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: need ${packages[*]} but apt-get is not available" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
/usr/bin/chromium --version
