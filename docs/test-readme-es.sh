#!/usr/bin/env bash
# Checks that README.es.md (the Spanish README) has not drifted from README.md: the same headings at the same
# levels in the same order, the same code blocks byte for byte in the same order, every command quoted inline in
# README.md also in README.es.md, and a link from each to the other. No network, no build.
# Usage: docs/test-readme-es.sh [README.md README.es.md]   (defaults: the repository's two files)
# Last line: "N passed, M failed".
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
EN=${1:-$HERE/../README.md}
ES=${2:-$HERE/../README.es.md}

T=$(mktemp -d /tmp/pibl-test-readme-es.XXXXXX)
trap 'rm -rf "$T"' EXIT
PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $1"; [ -z "${2:-}" ] || echo "    ${2//$'\n'/$'\n'    }"; }
same() { # DESCRIPTION FILE_EN FILE_ES : passes when the two files are identical
  if diff -u --label README.md "$2" --label README.es.md "$3" >"$T/diff" 2>&1; then
    pass "$1"
  else
    fail "$1" "$(head -n 40 "$T/diff")"
  fi
}

for f in "$EN" "$ES"; do
  [ -f "$f" ] || { fail "$f exists"; echo "$PASSED passed, $FAILED failed"; exit 1; }
done

# The level of every heading outside code fences, one per line (a fence is a line of ``` , indented or not).
heading_levels() {
  awk '/^ *```/ { fence = !fence; next }
       !fence && /^#+ / { match($0, /^#+/); if (RLENGTH <= 6) print RLENGTH }' "$1"
}
# Every code block, in order, each preceded by a marker line with its number: fenced blocks with their fence lines
# (and their indentation), and indented blocks (lines of four spaces or more outside fences, after a blank line).
code_blocks() {
  awk '/^ *```/ { if (!fence) { n++; print "=== block " n } fence = !fence; print; next }
       fence { print; next }
       /^    / && (prev_blank || indented) { if (!indented) { n++; print "=== block " n } indented = 1; print; next }
       { indented = 0; prev_blank = ($0 ~ /^ *$/) }' "$1"
}
# Inline code spans outside code blocks that look like commands, one per line, sorted and unique.
inline_commands() {
  awk '/^ *```/ { fence = !fence; next } !fence && !/^    / { print }' "$1" |
    grep -o '`[^`]*`' | sed 's/^`//; s/`$//' |
    grep -E '^(\./|mvn |bench/|deploy/|curl |java |sudo )' | LC_ALL=C sort -u || true
}

# 1. headings
heading_levels "$EN" >"$T/h.en"
heading_levels "$ES" >"$T/h.es"
if [ -s "$T/h.en" ]; then
  same "the same headings, level by level in order ($(wc -l <"$T/h.en") in README.md)" "$T/h.en" "$T/h.es"
else
  fail "README.md has headings"
fi

# 2. code blocks
code_blocks "$EN" >"$T/c.en"
code_blocks "$ES" >"$T/c.es"
if [ -s "$T/c.en" ]; then
  same "the same code blocks, byte for byte and in order ($(grep -c '^=== block ' "$T/c.en") in README.md)" \
    "$T/c.en" "$T/c.es"
else
  fail "README.md has code blocks"
fi

# 3. commands quoted inline
inline_commands "$EN" >"$T/i.en"
inline_commands "$ES" >"$T/i.es"
missing=$(LC_ALL=C comm -23 "$T/i.en" "$T/i.es")
if [ ! -s "$T/i.en" ]; then
  fail "README.md quotes commands inline"
elif [ -z "$missing" ]; then
  pass "every inline command of README.md is in README.es.md ($(wc -l <"$T/i.en") commands)"
else
  fail "every inline command of README.md is in README.es.md; missing:" "$missing"
fi

# 4. links both ways
if grep -qE '\]\((\./)?README\.es\.md(#[^)]*)?\)' "$EN"; then
  pass "README.md links to README.es.md"
else
  fail "README.md links to README.es.md"
fi
if grep -qE '\]\((\./)?README\.md(#[^)]*)?\)' "$ES"; then
  pass "README.es.md links to README.md"
else
  fail "README.es.md links to README.md"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
