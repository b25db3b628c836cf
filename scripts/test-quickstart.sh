#!/usr/bin/env bash
# The README's first commands and its quick start, run as a newcomer runs them, in a fresh copy
# of the repository: its files as git knows them (committed or not, untracked ones included,
# ignored ones left out), so no target/, no node_modules/, no dist/, no virtualenv. Then:
#   - `make demo`, the first block's first line;
#   - the quick-start block, line by line in one shell: its line that starts the test server on
#     port 8080 is replaced by scripts/with-testserver.sh (a free port: 8080 may be taken on a
#     test machine), whose address replaces http://127.0.0.1:8080 in the other lines; each line
#     that runs an example must print the server's answer, `You said: Hi`.
# No variable of this shell leaks in (AICHAT_*, LD_LIBRARY_PATH, PYTHONPATH, make's own).
#
# The one thing the copy does not build from nothing is Rust's dependencies: their compiled
# libraries are hard-linked from this repository's target/release/deps when it has them (each
# carries a hash of its inputs in its name, and rustc replaces a file, never writes into it);
# cargo's fingerprints and the build scripts' outputs, which can be written in place, are copied.
# So only aichat's own crates compile. AICHAT_QUICKSTART_COLD=1 builds everything from nothing.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# What a fresh clone holds is what git knows (as header-check, this needs a git checkout).
if ! git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
  echo "test-quickstart: skipped, $repo is not a git checkout"
  exit 0
fi
clone=$tmp/aichat
mkdir "$clone"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -xf - -C "$clone"
echo "fresh copy: $(cd "$clone" && find . -type f | wc -l) files in $clone"
for ignored in target bindings/node/node_modules dist; do
  [ ! -e "$clone/$ignored" ] || fail "the copy has $ignored"
done

if [ "${AICHAT_QUICKSTART_COLD:-0}" != 1 ] && [ -d "$repo/target/release/deps" ]; then
  for d in deps build .fingerprint; do
    [ -d "$repo/target/release/$d" ] || continue
    mkdir -p "$clone/target/release/$d"
    link=-l
    [ "$d" = deps ] || link=
    (cd "$repo/target/release/$d" && find . -mindepth 1 -maxdepth 1 ! -name '*aichat*' -print0 |
      xargs -0 -r cp -a $link -t "$clone/target/release/$d/")
  done
fi

# A newcomer's shell: none of this one's settings.
clean_env=(env -u AICHAT_LIB -u AICHAT_BASE_URL -u AICHAT_PROVIDER -u AICHAT_MODEL -u AICHAT_TEST_BASE_URL
  -u LD_LIBRARY_PATH -u PYTHONPATH -u NODE_PATH -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u PKG_CONFIG_PATH
  -u OPENAI_BASE_URL -u OPENAI_API_KEY)
cd "$clone"
example() { python3 scripts/readme-examples.py get README.md "$@"; }

echo "== the first block: make demo"
demo=$(example first-commands | grep -o '^make demo')
[ -n "$demo" ] || fail "the README's first block has no make demo"
"${clean_env[@]}" bash -ec "$demo" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "make demo in a fresh copy"; }
grep -qF "You said: Tell me something streamed" "$tmp/out" || { cat "$tmp/out"; fail "make demo printed no answer"; }
echo "ok ($(grep -c '^ *Compiling ' "$tmp/out" || true) crates compiled)"

echo "== the quick start, line by line"
example quickstart >"$tmp/quickstart.sh"
server_line=$(grep -c '^target/release/aichat-testserver 8080 &' "$tmp/quickstart.sh" || true)
[ "$server_line" = 1 ] || fail "the quick start no longer starts the test server on 8080 in one line"
cat >"$tmp/run.sh" <<'SH'
# Runs the quick start's lines (file $1) one after the other in this one shell, as typed, each
# announced on stdout by a line "@@ N" (N from 1), the server's line left out: it is running.
set -e
n=0
while IFS= read -r line; do
  n=$((n + 1))
  case "$line" in '' | '#'* | 'target/release/aichat-testserver 8080 &'*) continue ;; esac
  echo "@@ $n"
  eval "${line//http:\/\/127.0.0.1:8080/$AICHAT_TEST_BASE_URL}" </dev/null
done <"$1"
SH
"${clean_env[@]}" scripts/with-testserver.sh target/release/aichat-testserver \
  bash -c 'bash "$1" "$2"' _ "$tmp/run.sh" "$tmp/quickstart.sh" >"$tmp/out" 2>&1 ||
  { cat "$tmp/out"; fail "a quick-start line failed (the last @@ N above is the Nth line)"; }
# Each line that runs an example printed the answer.
n=0
while IFS= read -r line; do
  n=$((n + 1))
  case "$line" in '' | '#'* | 'target/release/aichat-testserver'* | 'export '*) continue ;; esac
  awk -v n="$n" '$0 == "@@ " n { on = 1; next } /^@@ / { on = 0 } on' "$tmp/out" >"$tmp/line.out"
  grep -qx 'You said: Hi' "$tmp/line.out" ||
    { cat "$tmp/line.out"; fail "quick-start line $n printed no 'You said: Hi': $line"; }
  echo "ok: ${line%%  *}"
done <"$tmp/quickstart.sh"
echo "test-quickstart: the first commands and every quick-start line work in a fresh copy"
