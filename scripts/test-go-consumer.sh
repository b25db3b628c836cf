#!/usr/bin/env bash
# Installs the library to a temporary prefix, builds tests/go-consumer as a module of its own
# outside the repository (the binding found through a replace directive, the library through
# pkg-config), and runs it against the local test server.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -C "$repo" --no-print-directory install PREFIX="$tmp/prefix" >/dev/null
mkdir "$tmp/app"
cp "$repo/tests/go-consumer/main.go" "$tmp/app/"
cat >"$tmp/app/go.mod" <<MOD
module consumer

go 1.23

require github.com/aichat-dev/aichat-go v0.0.0

replace github.com/aichat-dev/aichat-go => $repo/bindings/go
MOD
cd "$tmp/app"
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" CGO_LDFLAGS="-Wl,-rpath,$tmp/prefix/lib" \
  go build -tags aichat_pkgconfig -o app .
# The binary must use the installed library, not the build tree's.
ldd ./app | grep "$tmp/prefix/lib/libaichat.so.0" >/dev/null || { echo "app is not linked to the installed library"; ldd ./app; exit 1; }
"$repo/scripts/with-testserver.sh" "$repo/target/release/aichat-testserver" sh -c './app "$AICHAT_TEST_BASE_URL"'
