#!/usr/bin/env bash
# with-testserver.sh SERVER_BINARY COMMAND [ARGS...]
# Starts the local test server on a free loopback port, exports its address as
# AICHAT_TEST_BASE_URL, runs COMMAND, and stops the server however COMMAND ends.
set -euo pipefail
server=$1
shift
out=$(mktemp)
"$server" 0 >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 1 100); do
  url=$(head -n 1 "$out" 2>/dev/null || true)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "test server exited early" >&2; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "test server did not print its address" >&2; exit 1; }
export AICHAT_TEST_BASE_URL=$url
"$@"
