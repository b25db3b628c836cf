#!/usr/bin/env bash
# What a C or C++ developer does with the library: install it, link it with pkg-config (shared
# and fully static) and with CMake's find_package, and run the programs against the local test
# server. Also checks the installed layout, the soname, the exported symbols and aichat.pc.
# The programs find the library of the temporary prefix through the rpath they were linked with
# (`-Wl,-rpath,$PREFIX/lib`, as the README shows), never through LD_LIBRARY_PATH.
set -euo pipefail
unset LD_LIBRARY_PATH
# (No `grep -q` after a pipe: with pipefail, grep quitting early can fail the writer with SIGPIPE.)
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
server="$repo/target/release/aichat-testserver"
with_server() { "$repo/scripts/with-testserver.sh" "$server" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== staged install (DESTDIR)"
make -C "$repo" --no-print-directory install DESTDIR="$tmp/stage" PREFIX=/usr >/dev/null
for f in lib/libaichat.so.0.1.0 lib/libaichat.so.0 lib/libaichat.so lib/libaichat.a include/aichat.h include/aichat.json include/aichat.hpp \
         lib/pkgconfig/aichat.pc lib/cmake/aichat/aichatConfig.cmake lib/cmake/aichat/aichatConfigVersion.cmake; do
  [ -e "$tmp/stage/usr/$f" ] || fail "missing $f"
done
grep -qx 'prefix=/usr' "$tmp/stage/usr/lib/pkgconfig/aichat.pc" || fail "aichat.pc prefix"
# aichat.pc describes the library as Cargo.toml does, naming each protocol it speaks.
description=$(sed -n 's/^description = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n 1)
grep -qxF "Description: $description" "$tmp/stage/usr/lib/pkgconfig/aichat.pc" ||
  fail "aichat.pc's Description is not Cargo.toml's: $(grep Description "$tmp/stage/usr/lib/pkgconfig/aichat.pc")"
for protocol in Aichat OpenAI Anthropic Ollama Gemini Bedrock; do
  case "$description" in *"$protocol"*) ;; *) fail "the description does not name the $protocol protocol: $description" ;; esac
done

prefix="$tmp/prefix"
make -C "$repo" --no-print-directory install PREFIX="$prefix" >/dev/null
lib="$prefix/lib/libaichat.so.0.1.0"
echo "== soname and exported symbols"
readelf -d "$lib" | grep 'Library soname: \[libaichat.so.0\]' >/dev/null || fail "soname is not libaichat.so.0"
leaked=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^aichat_' || true)
[ -z "$leaked" ] || fail "symbols other than aichat_* exported: $(echo "$leaked" | head -5)"
echo "ok: soname libaichat.so.0, $(nm -D --defined-only "$lib" | wc -l) symbols, all aichat_*"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check_chat() { # BINARY: the C example must stream the expected answer
  with_server sh -c "\"$1\" --base-url \"\$AICHAT_TEST_BASE_URL/v1\" --provider openai installed" >"$tmp/out"
  grep -qx 'You said: installed' "$tmp/out" || fail "$1 printed: $(cat "$tmp/out")"
}
echo "== C with pkg-config (shared)"
cc -std=c11 -Wall -Wextra -Werror "$repo/bindings/c/examples/chat.c" $(pkg-config --cflags --libs aichat) \
  -Wl,-rpath,"$prefix/lib" -o "$tmp/chat_shared"
ldd "$tmp/chat_shared" | grep "$prefix/lib/libaichat.so.0" >/dev/null || fail "not linked to the installed library"
readelf -d "$tmp/chat_shared" | grep -E "(RUNPATH|RPATH).*\[$prefix/lib\]" >/dev/null || fail "no rpath $prefix/lib recorded"
check_chat "$tmp/chat_shared"
echo "ok"
echo "== C with pkg-config --static (fully static executable)"
cc -std=c11 -Wall -Wextra -Werror "$repo/bindings/c/examples/chat.c" $(pkg-config --cflags --libs --static aichat) \
  -static -o "$tmp/chat_static" 2>"$tmp/ld.log" || { cat "$tmp/ld.log"; fail "static link"; }
file "$tmp/chat_static" | grep 'statically linked' >/dev/null || fail "not statically linked"
check_chat "$tmp/chat_static"
echo "ok"

echo "== C++ with CMake find_package(aichat)"
cmake -S "$repo/tests/cpp" -B "$tmp/cpp" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$tmp/cpp" -j 2 >/dev/null
echo "-- the C++ wrapper's test (shared library, AddressSanitizer + UBSan)"
with_server sh -c "ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \"$tmp/cpp/test_wrapper\" \"\$AICHAT_TEST_BASE_URL\""
echo "-- the same test, static library"
with_server sh -c "\"$tmp/cpp/test_wrapper_static\" \"\$AICHAT_TEST_BASE_URL\""
