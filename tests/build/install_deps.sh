#!/usr/bin/env bash
# scripts/install-deps as a non-root user on a fresh machine, against fake
# id, sudo (which, like the real one, starts the command with a clean
# environment), dpkg-query (nothing installed) and apt-get (which records
# what it was asked and with which DEBIAN_FRONTEND): every apt-get call must
# still see DEBIAN_FRONTEND=noninteractive, and each option must ask for
# what its stage runs (the container stage needs python3).
# Usage: tests/build/install_deps.sh SOURCE_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/badges-health-install-deps.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "install_deps: FAIL: $*" >&2; exit 1; }

mkdir "$work/bin"
cat >"$work/bin/id" <<'SH'
#!/bin/sh
[ "$1" = -u ] && echo 1000 || /usr/bin/id "$@"
SH
cat >"$work/bin/sudo" <<SH
#!/bin/sh
exec env -i PATH="$work/bin:/usr/bin:/bin" "\$@"
SH
cat >"$work/bin/dpkg-query" <<'SH'
#!/bin/sh
exit 1
SH
cat >"$work/bin/apt-get" <<SH
#!/bin/sh
echo "DEBIAN_FRONTEND=\${DEBIAN_FRONTEND:-unset} \$*" >>"$work/apt-get.log"
SH
chmod +x "$work/bin/"*

run() {
  : >"$work/apt-get.log"
  PATH="$work/bin:$PATH" "$src/scripts/install-deps" "$@" >/dev/null 2>&1 ||
    fail "install-deps $* failed"
}

run --container
[[ $(wc -l <"$work/apt-get.log") -eq 2 ]] || fail "expected apt-get update and install: $(cat "$work/apt-get.log")"
if grep -v '^DEBIAN_FRONTEND=noninteractive ' "$work/apt-get.log"; then
  fail "apt-get ran without DEBIAN_FRONTEND=noninteractive through sudo"
fi
install_line=$(grep ' install ' "$work/apt-get.log")
for p in podman debootstrap python3; do
  [[ " $install_line " == *" $p "* ]] || fail "--container does not install $p: $install_line"
done
run --test
install_line=$(grep ' install ' "$work/apt-get.log")
for p in prometheus haproxy python3 clang-format; do
  [[ " $install_line " == *" $p "* ]] || fail "--test does not install $p: $install_line"
done
echo "install_deps: ok: DEBIAN_FRONTEND kept through sudo; --container and --test ask for their tools"
