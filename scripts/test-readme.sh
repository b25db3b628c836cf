#!/usr/bin/env bash
# Runs every code example of README.md as it is written and checks what it prints, so that an
# example that drifts from the API fails `make test`. Run through `make test-readme`, under
# scripts/with-testserver.sh (AICHAT_TEST_BASE_URL), after `make build` and the Node binding's
# `npm ci`.
#
# Each fenced block of the README is named by the comment above it (`<!-- example: NAME -->`) and
# taken out by scripts/readme-examples.py. The examples talk to http://127.0.0.1:8080, where a
# reader runs the test server; here that address is replaced by the test server's, which runs on
# a free port. A fragment that is not a whole program goes into a template of tests/readme/ (at
# its @README@ line), which supplies what the README leaves out (main, imports) and checks what
# the example did. Every named example must be run here (or, for the quick-start lines, by
# scripts/test-quickstart.sh, from a fresh copy of the repository): a new example without a check
# fails the run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
: "${AICHAT_TEST_BASE_URL:?run this through scripts/with-testserver.sh}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
readme=README.md
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
# A program built here finds its library through the rpath it was linked with, never through
# LD_LIBRARY_PATH.
unset LD_LIBRARY_PATH AICHAT_LIB AICHAT_BASE_URL AICHAT_PROVIDER AICHAT_MODEL

fail() { echo "FAIL: $*" >&2; exit 1; }
ran=()
# example NAME [TEMPLATE]: the block, with the examples' server address replaced by the test server's.
example() {
  ran+=("$1")
  python3 scripts/readme-examples.py get "$readme" "$1" ${2:+--template "$2"} \
    --replace "http://127.0.0.1:8080=$AICHAT_TEST_BASE_URL" --replace "/path/to/aichat=$repo"
}
# expect FILE TEXT...: FILE (a program's output) holds each TEXT.
expect() {
  local file=$1
  shift
  for want in "$@"; do
    grep -qF -- "$want" "$file" || { echo "--- output:"; cat "$file"; fail "the output lacks: $want"; }
  done
}
# expect_re FILE REGEX...: as expect, with extended regular expressions.
expect_re() {
  local file=$1
  shift
  for want in "$@"; do
    grep -qE -- "$want" "$file" || { echo "--- output:"; cat "$file"; fail "the output lacks a match for: $want"; }
  done
}
# libaichat_from PROGRAM DIR: the program loads libaichat.so.0 from DIR.
libaichat_from() {
  ldd "$1" | grep -F "libaichat.so.0 => $2/libaichat.so.0" >/dev/null ||
    { ldd "$1"; fail "$1 does not load libaichat.so.0 from $2"; }
}
cc_flags=(-std=c11 -Wall -Wextra -Werror)
link_repo=(-Ltarget/release -laichat "-Wl,-rpath,$repo/target/release")

# An install to a private prefix, for the examples that link an installed library.
PREFIX=$tmp/prefix
make --no-print-directory install PREFIX="$PREFIX" >/dev/null
export PREFIX PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig

echo "== first-commands: make demo (make test is what runs this)"
example first-commands >"$tmp/first.sh"
grep -qx 'make demo .*' "$tmp/first.sh" && grep -qx 'make test .*' "$tmp/first.sh" ||
  { cat "$tmp/first.sh"; fail "the first block no longer gives make demo and make test"; }
make --no-print-directory demo >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "make demo"; }
expect "$tmp/out" "You said: Tell me something streamed" "[tool call get_time" "The tool returned: "
echo "ok"

echo "== c-first: the first C program, compiled as it is"
example c-first >"$tmp/app.c"
cc "${cc_flags[@]}" -Iinclude "$tmp/app.c" "${link_repo[@]}" -o "$tmp/c-first"
"$tmp/c-first" >"$tmp/out"
[ "$(cat "$tmp/out")" = "You said: Hi" ] || fail "c-first printed: $(cat "$tmp/out")"
echo "ok: $(cat "$tmp/out")"

echo "== c-chat-commands: the C example's three command lines"
example c-chat-commands >"$tmp/chat.sh"
bash -e "$tmp/chat.sh" >"$tmp/out"
[ "$(grep -c '^You said: your message$' "$tmp/out")" = 2 ] || { cat "$tmp/out"; fail "two answers expected"; }
expect "$tmp/out" "[tool call get_time" "[tool get_time -> "
expect_re "$tmp/out" "^The tool returned: [0-9-]{10} [0-9:]{8} UTC$"
echo "ok"

echo "== link-pkgconfig: each link line, then the program it built, without LD_LIBRARY_PATH"
# Run where the README's lines are run: app.c (the first C program) next to the repository's
# include/ and target/, with PREFIX a private prefix.
mkdir "$tmp/link"
cp "$tmp/app.c" "$tmp/link/app.c"
ln -s "$repo/include" "$repo/target" "$tmp/link/"
example link-pkgconfig >"$tmp/link.sh"
n=0
while IFS= read -r line; do
  case "$line" in '' | '#'*) continue ;; esac
  n=$((n + 1))
  rm -f "$tmp/link/app"
  (cd "$tmp/link" && bash -ec "$line") 2>"$tmp/link.err" || { cat "$tmp/link.err"; fail "link line: $line"; }
  (cd "$tmp/link" && ./app) >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "the program of: $line"; }
  [ "$(cat "$tmp/out")" = "You said: Hi" ] || fail "the program of '$line' printed: $(cat "$tmp/out")"
  case "$line" in
    *-static*)
      file -L "$tmp/link/app" | grep 'statically linked' >/dev/null || fail "not statically linked: $line"
      # The only thing the static link prints is glibc's warning about its NSS functions, and
      # the README names each function it warns about.
      warned=$(grep -o "warning: Using '[a-z_]*' in statically linked applications requires at runtime the shared libraries from the glibc version used for linking" "$tmp/link.err" |
        sed "s/warning: Using '\([a-z_]*\)'.*/\1/" | sort -u)
      others=$(grep -v -e 'in statically linked applications requires at runtime' -e ': in function ' "$tmp/link.err" || true)
      [ -z "$others" ] || fail "the static link printed more than glibc's warnings: $others"
      for f in $warned; do
        grep -F "\`$f\`" "$readme" >/dev/null || grep -F "Using '$f' in statically linked" "$readme" >/dev/null ||
          fail "the static link warns about $f, which the README does not explain"
      done
      grep -F "requires at runtime the shared libraries from the glibc version used for linking" "$readme" >/dev/null ||
        fail "the README no longer quotes glibc's warning"
      ;;
    *libaichat.a*) ldd "$tmp/link/app" | grep -F libaichat >/dev/null && fail "links a shared libaichat: $line" ;;
    *target/release*) libaichat_from "$tmp/link/app" "$tmp/link/target/release" ;;
    *) libaichat_from "$tmp/link/app" "$PREFIX/lib" ;;
  esac
  [ -s "$tmp/link.err" ] && ! grep -q 'statically linked' "$tmp/link.err" && { cat "$tmp/link.err"; fail "warnings: $line"; }
  echo "ok: $line"
done <"$tmp/link.sh"
[ "$n" = 4 ] || fail "expected 4 link lines, ran $n"

echo "== cmake: find_package and target_link_libraries, the shared and the static target"
for target in aichat::aichat aichat::aichat_static; do
  dir=$tmp/cmake-${target#aichat::}
  mkdir "$dir"
  cp "$tmp/app.c" "$dir/"
  example cmake tests/readme/cmake.cmake >"$dir/CMakeLists.txt"
  # The README's comment offers the static target instead: build that one too.
  [ "$target" = aichat::aichat ] || sed -i 's/(app PRIVATE aichat::aichat)/(app PRIVATE aichat::aichat_static)/' "$dir/CMakeLists.txt"
  grep -F "PRIVATE $target)" "$dir/CMakeLists.txt" >/dev/null || fail "cmake: no target_link_libraries line for $target"
  cmake -S "$dir" -B "$dir/build" -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
  cmake --build "$dir/build" >/dev/null
  "$dir/build/app" >"$tmp/out"
  [ "$(cat "$tmp/out")" = "You said: Hi" ] || fail "cmake ($target) program printed: $(cat "$tmp/out")"
  if [ "$target" = aichat::aichat ]; then libaichat_from "$dir/build/app" "$PREFIX/lib"; fi
  echo "ok: $target"
done

echo "== cpp: the C++ example, against the installed aichat.hpp"
example cpp tests/readme/cpp.cpp >"$tmp/cpp.cpp"
c++ -std=c++17 -Wall -Wextra -Werror -I"$PREFIX/include" "$tmp/cpp.cpp" -L"$PREFIX/lib" -laichat \
  "-Wl,-rpath,$PREFIX/lib" -o "$tmp/cpp"
"$tmp/cpp" >"$tmp/out"
expect "$tmp/out" "You said: Hi[tool call get_time]" "complete: You said: Hi"
expect_re "$tmp/out" '^run: tool_calls get_time \{.*\}$'
echo "ok"

echo "== go, go-mod, go-build-pkgconfig: the Go example built as the README says, outside the repository"
mkdir "$tmp/go"
example go tests/readme/go.go >"$tmp/go/main.go"
{ printf 'module app\n\ngo 1.23\n\n'; example go-mod; } >"$tmp/go/go.mod"
example go-build-pkgconfig >"$tmp/go/build.sh"
(cd "$tmp/go" && bash -e build.sh)
[ -x "$tmp/go/app" ] || fail "go build made no ./app"
libaichat_from "$tmp/go/app" "$PREFIX/lib"
"$tmp/go/app" >"$tmp/out"
expect "$tmp/out" "You said: Hi"
expect_re "$tmp/out" "The tool returned: [0-9-]{10} "
echo "ok"

echo "== c-functions: the list of functions against the header and the library"
example c-functions tests/readme/c-functions.c >"$tmp/functions.c"
example c-functions | grep -o '\baichat_[a-z_]*(' | tr -d '(' | sort -u | sed 's/.*/    (AnyFunction)&,/' >"$tmp/functions.inc"
cc "${cc_flags[@]}" -Iinclude -I"$tmp" "$tmp/functions.c" "${link_repo[@]}" -o "$tmp/functions"
"$tmp/functions" >"$tmp/out"
expect "$tmp/out" "version $version"
example c-functions | grep -F "\"$version\"" >/dev/null || fail "c-functions: aichat_version's comment does not say \"$version\""
echo "ok: $(cat "$tmp/out")"

echo "== c-poll: the poll loop, driving eight streams to their end"
example c-poll tests/readme/c-poll.c >"$tmp/poll.c"
cc "${cc_flags[@]}" -Iinclude "$tmp/poll.c" "${link_repo[@]}" -o "$tmp/poll"
"$tmp/poll" >"$tmp/out"
expect "$tmp/out" "8 streams ended, each with its answer"
echo "ok: $(cat "$tmp/out")"

echo "== c-events: the event callback in the tool round trip its comment outlines"
example c-events tests/readme/c-events.c >"$tmp/events.c"
cc "${cc_flags[@]}" -Iinclude "$tmp/events.c" "${link_repo[@]}" -o "$tmp/events"
"$tmp/events" >"$tmp/out"
expect "$tmp/out" "The tool returned: 12:00"
echo "ok"

echo "== result-json: RESULT's JSON as the README shows it, against the library's"
example result-json tests/readme/result-json.py >"$tmp/result-json.py"
PYTHONPATH=$repo/bindings/python/src python3 "$tmp/result-json.py" >"$tmp/out" || { cat "$tmp/out"; fail "result-json"; }
echo "ok"

echo "== node: the Node example, importing 'aichat' (this repository's bindings/node)"
mkdir -p "$tmp/node/node_modules"
ln -s "$repo/bindings/node" "$tmp/node/node_modules/aichat"
example node >"$tmp/node/example.mjs"
(cd "$tmp/node" && node example.mjs) >"$tmp/out"
expect "$tmp/out" "You said: HiYou said: Hi"
expect_re "$tmp/out" "The tool returned: [0-9-]{10}T"
echo "ok"

echo "== python: the Python example, with PYTHONPATH=bindings/python/src"
example python >"$tmp/example.py"
PYTHONPATH=$repo/bindings/python/src python3 "$tmp/example.py" >"$tmp/out"
expect "$tmp/out" "You said: Hi"
[ "$(grep -o 'The tool returned: [0-9-]*T' "$tmp/out" | wc -l)" = 2 ] || { cat "$tmp/out"; fail "two answers to the tool result expected (events, astream)"; }
echo "ok"

# Every example of the README has been run here, but for the quick start, which
# scripts/test-quickstart.sh runs from a fresh copy of the repository.
ran+=(quickstart)
missing=$(comm -23 <(python3 scripts/readme-examples.py list "$readme" | sort) <(printf '%s\n' "${ran[@]}" | sort))
[ -z "$missing" ] || fail "README examples that no test runs: $missing (add them to scripts/test-readme.sh)"
echo "test-readme: all ${#ran[@]} examples of $readme ran as written"
