# shellcheck shell=bash
# Sourced by scripts/test.sh: make headless Chromium available for the HTML-report test.
# Debian's chromium package (scripts/setup.sh installs it; this file installs it too when
# sourced alone as root), driven by Playwright's Python package (no browser download).
if [ -x /usr/bin/chromium ]; then
  export MEMWATCH_TEST_CHROMIUM=/usr/bin/chromium
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing chromium (Debian) for the HTML report test"
  if { [ -n "$(find /var/lib/apt/lists -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ] \
       || apt-get update -qq >/dev/null; } \
     && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    export MEMWATCH_TEST_CHROMIUM=/usr/bin/chromium
  else
    echo "   chromium could not be installed: the browser test will skip with that reason"
  fi
else
  echo "   chromium is not installed and this user cannot install it: the browser test will skip"
fi
