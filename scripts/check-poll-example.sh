#!/usr/bin/env bash
# Runs the C poll example (the command given, e.g. build/poll or valgrind ... build/poll) on
# eight paced streams of the local test server, and checks that all eight finished with every
# word and that one thread really interleaved them (streams one after the other would switch
# from one stream's lines to the next only seven times).
set -euo pipefail
out=$("$@" "$AICHAT_TEST_BASE_URL/fault/interval=20/v1" 8)
printf '%s\n' "$out" | tail -n 8
for i in 0 1 2 3 4 5 6 7; do
  printf '%s\n' "$out" | grep -q "^\[$i\] finished after [1-9][0-9]* chunks$" || { echo "stream $i did not finish"; exit 1; }
done
switches=$(printf '%s\n' "$out" | cut -d']' -f1 | uniq | wc -l)
[ "$switches" -gt 8 ] || { echo "the streams were not interleaved:"; printf '%s\n' "$out"; exit 1; }
