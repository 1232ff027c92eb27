# Sourced by scripts/test.sh: start the real services tests need, export their addresses.
# PostgreSQL and Chromium are installed here by the history-store work; until then
# the tests that need them are skipped with the reason.
true
