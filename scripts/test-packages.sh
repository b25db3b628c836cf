#!/usr/bin/env bash
# Installs each package of dist/ the way a user would, in a fresh temporary folder, with no Rust
# toolchain on PATH, no AICHAT_LIB and no aichat library installed system-wide, and streams from
# the local test server with each:
#   pip install dist/aichat-*.whl into a new venv;
#   npm install dist/aichat-*.tgz into an empty folder (koffi comes from the npm registry);
#   go build of a consumer module outside the repository that requires dist/go (a replace).
# Each also checks that it used the library its package carries.
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

echo "== Python wheel: pip install into a new venv"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q "$repo"/dist/aichat-*.whl
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

echo "== npm tarball: npm install into an empty folder"
mkdir "$tmp/node-app"
(cd "$tmp/node-app" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent "$repo"/dist/aichat-*.tgz)
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
