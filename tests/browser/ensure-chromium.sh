#!/bin/sh
# The browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
# `make test` runs this first: it installs chromium and a font when the binary is missing, or says why not.
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
echo "browser tests: $CHROMIUM is missing; installing Debian's chromium and fonts-dejavu-core" >&2
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        chromium fonts-dejavu-core >/dev/null
fi
[ -x "$CHROMIUM" ] && exit 0
echo "browser tests: cannot install chromium. On Debian, as root: apt-get install chromium fonts-dejavu-core;" \
     "elsewhere set CHROMIUM=/path/to/chromium" >&2
exit 1
