#!/usr/bin/env bash
# Installs each package of dist/ the way a user would, in a fresh temporary folder, with no Rust
# toolchain on PATH, no AICHAT_LIB and no aichat library installed system-wide, and streams from
# the local test server with each:
#   pip install dist/aichat-*.whl into a new venv;
#   npm install dist/aichat-*.tgz into an empty folder (koffi comes from the npm registry);
#   go build of a consumer module outside the repository that requires dist/go (a replace).
# Each also checks that it used the library its package carries, and runs the examples of the
# README the package carries (as written, the test server's address in place of
# http://127.0.0.1:8080), installing with the command that README gives. First, the metadata a
# registry shows, read from the built packages (scripts/check-packages.py).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
server="$repo/target/release/aichat-testserver"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The user's machine: no cargo or rustc, no AICHAT_LIB, no system-wide library.
PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e '\.cargo' -e 'rustup' | paste -sd:)
export PATH
unset AICHAT_LIB
if command -v cargo >/dev/null || command -v rustc >/dev/null; then
  echo "test-packages: a Rust toolchain is still on PATH" >&2; exit 1
fi
if ldconfig -p 2>/dev/null | grep -q libaichat; then
  echo "test-packages: libaichat is installed system-wide; these checks need a machine without it" >&2; exit 1
fi
with_server() { "$repo/scripts/with-testserver.sh" "$server" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 "$repo/scripts/check-packages.py" "$repo"

# example README NAME [OLD=NEW...]: a block of a package's README (scripts/readme-examples.py),
# with the examples' server address replaced by the test server's (when one runs).
# Each example run is noted in $tmp/ran (the functions run in subshells too).
example() {
  local readme=$1 name=$2
  shift 2
  echo "$readme:$name" >>"$tmp/ran"
  local replace=(--replace "http://127.0.0.1:8080=${AICHAT_TEST_BASE_URL:-http://127.0.0.1:8080}")
  for r in "$@"; do replace+=(--replace "$r"); done
  python3 "$repo/scripts/readme-examples.py" get "$repo/$readme" "$name" "${replace[@]}"
}
# run_example README NAME FILE COMMAND: under the test server, writes the example to FILE (the
# server's address in it), then runs the shell command COMMAND; what it prints must show both of
# the example's answers.
run_example() {
  local readme=$1 name=$2 file=$3 command=$4
  echo "$readme:$name" >>"$tmp/ran"
  with_server sh -c 'python3 "$0" get "$1" "$2" --replace "http://127.0.0.1:8080=$AICHAT_TEST_BASE_URL" >"$3" && eval "$4"' \
    "$repo/scripts/readme-examples.py" "$repo/$readme" "$name" "$file" "$command" >"$tmp/example.out" 2>&1 ||
    { cat "$tmp/example.out"; fail "$readme: example $name"; }
  grep -qx 'You said: Hi' "$tmp/example.out" && grep -qx 'The tool returned: 12:00' "$tmp/example.out" ||
    { cat "$tmp/example.out"; fail "$readme: example $name did not print both answers"; }
  echo "ok: $readme: example $name"
}

echo "== Python wheel: pip install into a new venv"
python3 -m venv "$tmp/venv"
# The README's line, from the repository's root (where dist/ is), with this venv's pip.
install=$(example bindings/python/README.md python-package-install)
[ "$(printf '%s\n' "$install" | grep -c .)" = 1 ] && [ "${install%% *}" = pip ] || fail "python-package-install: $install"
wheel=${install##* }
[ -f "$repo/$wheel" ] || [ "$(uname -m)" != x86_64 ] || fail "bindings/python/README.md installs $wheel, which make dist did not build: $(ls "$repo/dist")"
[ -f "$repo/$wheel" ] || wheel=$(cd "$repo" && ls dist/aichat-*.whl)
(cd "$repo" && "$tmp/venv/bin/pip" install -q "$wheel")
cat >"$tmp/stream.py" <<'PY'
import asyncio, os, sys
import aichat
from aichat import _native
base = os.environ["AICHAT_TEST_BASE_URL"]
loaded = _native.lib()._name
assert "site-packages/aichat/_lib/" in loaded, f"not the wheel's library: {loaded}"
msgs = [{"role": "user", "content": "from a wheel"}]
chunks = list(aichat.stream(msgs, provider="openai", base_url=f"{base}/v1", stream=True, proxy=""))
assert "".join(chunks) == "You said: from a wheel" and len(chunks) > 1, chunks
text = asyncio.run(aichat.acomplete(msgs, provider="openai", base_url=f"{base}/v1", stream=True, proxy=""))
assert text == "You said: from a wheel", text
print("python wheel: ok:", "".join(chunks), "| library:", loaded)
PY
(cd "$tmp" && with_server "$tmp/venv/bin/python" "$tmp/stream.py")
(cd "$tmp" && run_example bindings/python/README.md python-package readme.py "venv/bin/python readme.py")

echo "== npm tarball: npm install into an empty folder"
mkdir "$tmp/node-app"
install=$(example bindings/node/README.md node-package-install "./dist/=$repo/dist/")
[ "$(printf '%s\n' "$install" | grep -c .)" = 1 ] && [ "${install%% *}" = npm ] || fail "node-package-install: $install"
[ -f "${install##* }" ] || [ "$(uname -m)" != x86_64 ] || fail "bindings/node/README.md installs ${install##* }, which make dist did not build"
[ -f "${install##* }" ] || install="npm install $(ls "$repo"/dist/aichat-*.tgz)"
(cd "$tmp/node-app" && npm init -y >/dev/null && $install --no-audit --no-fund --silent)
cat >"$tmp/node-app/stream.mjs" <<'JS'
import { createRequire } from 'node:module';
import { Client } from 'aichat';
const require = createRequire(import.meta.url);
// A file path, not the package name: the package exports only its entry points.
const { libraryPath } = require('./node_modules/aichat/lib/native.cjs');
if (!libraryPath().includes('node_modules/aichat/prebuilds/')) throw new Error(`not the package's library: ${libraryPath()}`);
const client = new Client({ proxy: '' });
const chunks = [];
for await (const c of client.createCompletion({ provider: 'openai', stream: true,
  baseUrl: `${process.env.AICHAT_TEST_BASE_URL}/v1`, messages: [{ role: 'user', content: 'from npm' }] })) chunks.push(c);
client.close();
if (chunks.join('') !== 'You said: from npm' || chunks.length < 2) throw new Error(JSON.stringify(chunks));
console.log('npm tarball: ok:', chunks.join(''), '| library:', libraryPath());
JS
(cd "$tmp/node-app" && with_server node stream.mjs)
(cd "$tmp/node-app" && run_example bindings/node/README.md node-package readme.mjs "node readme.mjs")

echo "== Go module: a consumer outside the repository, go build, no pkg-config"
mkdir "$tmp/go-app"
cp "$repo/tests/go-consumer/main.go" "$tmp/go-app/"
cat >"$tmp/go-app/go.mod" <<MOD
module consumer

go 1.23

require github.com/aichat-dev/aichat-go v0.0.0

replace github.com/aichat-dev/aichat-go => $repo/dist/go
MOD
(cd "$tmp/go-app" && PKG_CONFIG_PATH=/nonexistent go build -o app .)
if ldd "$tmp/go-app/app" | grep -q libaichat; then
  echo "the Go program links a shared libaichat: it should carry the module's static one" >&2; exit 1
fi
(cd "$tmp/go-app" && with_server sh -c './app "$AICHAT_TEST_BASE_URL"')

echo "== Go module: the README's example, with the README's go.mod lines"
mkdir "$tmp/go-readme"
{ printf 'module app\n\ngo 1.23\n\n'; example bindings/go/README.md go-package-mod "../aichat/dist/go=$repo/dist/go"; } >"$tmp/go-readme/go.mod"
# The example as the README has it must be gofmt'ed; built and run with the server's address.
python3 "$repo/scripts/readme-examples.py" get "$repo/bindings/go/README.md" go-package >"$tmp/go-readme.go"
[ -z "$(gofmt -l "$tmp/go-readme.go")" ] || fail "bindings/go/README.md: gofmt would change the example go-package"
(cd "$tmp/go-readme" && run_example bindings/go/README.md go-package main.go "PKG_CONFIG_PATH=/nonexistent go build -o app . && ./app")

# Every block of the packages' READMEs ran.
for readme in bindings/python/README.md bindings/node/README.md bindings/go/README.md; do
  for name in $(python3 "$repo/scripts/readme-examples.py" list "$repo/$readme"); do
    grep -qx "$readme:$name" "$tmp/ran" || fail "$readme: no test runs its example $name"
  done
done
echo "test-packages: ok"
