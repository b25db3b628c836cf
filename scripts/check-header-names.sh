#!/usr/bin/env bash
# Fails when the public header declares a name outside the library's namespace: a C header
# shares one namespace with every program that includes it, so each macro, type and function
# it declares must start with AICHAT_, Aichat or aichat_.
set -euo pipefail
header=${1:-include/aichat.h}
bad=$(
  {
    grep -oE '^#define [A-Za-z_][A-Za-z0-9_]*' "$header" | awk '{print $2}' | grep -v '^AICHAT_'
    grep -oE '\b(struct|enum|union) [A-Za-z_][A-Za-z0-9_]*' "$header" | awk '{print $2}' | grep -v '^Aichat'
    grep -oE '^\} [A-Za-z_][A-Za-z0-9_]*;' "$header" | tr -d '};' | awk '{print $1}' | grep -v '^Aichat'
    grep -oE '\(\*[A-Za-z_][A-Za-z0-9_]*\)' "$header" | tr -d '(*)' | grep -v '^Aichat'
    grep -oE '^ *[A-Z][A-Z0-9_]* = ' "$header" | awk '{print $1}' | grep -v '^AICHAT_'
    grep -oE '[A-Za-z_][A-Za-z0-9_]*\(' "$header" | grep -vE '^(struct|enum|if|defined|sizeof)\(' |
      tr -d '(' | grep -v '^aichat_'
  } || true
)
if [ -n "$bad" ]; then
  echo "$header declares names outside the aichat namespace:" $bad
  exit 1
fi
echo "ok: every name in $header starts with AICHAT_, Aichat or aichat_"
