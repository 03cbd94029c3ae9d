#!/usr/bin/env bash
# -Werror is a choice of the test and CI builds, not of a user's build: a
# plain configure (and the Dockerfile's) compiles without it, and
# BADGES_HEALTH_WERROR=ON (scripts/test, scripts/build-sanitized) adds it to
# every source of the project. Configures only, in a temporary directory.
# Usage: tests/build/werror_option.sh SOURCE_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/badges-health-werror.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "werror_option: FAIL: $*" >&2; exit 1; }

# The compile commands of the project's own sources (not the generated ones).
commands() {
  # File by file, so each source has its own command (unity batches do not).
  cmake -S "$src" -B "$work/$1" -DBADGES_HEALTH_BUILD_TESTS=OFF -DBADGES_HEALTH_UNITY_BUILD=OFF \
    "${@:2}" >/dev/null
  python3 - "$work/$1/compile_commands.json" "$src" <<'PY'
import json, sys
entries = json.load(open(sys.argv[1]))
for e in entries:
    if e["file"].startswith(sys.argv[2] + "/src/"):
        print(e["file"], "WERROR" if "-Werror" in e["command"].split() else "plain")
PY
}

plain=$(commands plain)
[[ -n $plain ]] || fail "no compile commands for src/ in a plain configure"
if grep -q WERROR <<<"$plain"; then fail "a plain configure compiles with -Werror:
$(grep WERROR <<<"$plain")"; fi

strict=$(commands strict -DBADGES_HEALTH_WERROR=ON)
if grep -q plain <<<"$strict"; then fail "BADGES_HEALTH_WERROR=ON leaves sources without -Werror:
$(grep plain <<<"$strict")"; fi

# The Dockerfile builds as a user would; the test builds turn it on.
grep -q 'BADGES_HEALTH_WERROR' "$src/Dockerfile" && fail "the Dockerfile sets BADGES_HEALTH_WERROR"
grep -q 'BADGES_HEALTH_WERROR=ON' "$src/scripts/test" || fail "scripts/test does not set BADGES_HEALTH_WERROR=ON"
grep -q 'BADGES_HEALTH_WERROR=ON' "$src/scripts/build-sanitized" ||
  fail "scripts/build-sanitized does not set BADGES_HEALTH_WERROR=ON"
echo "werror_option: ok: $(wc -l <<<"$plain") sources plain by default, all with -Werror when asked"
