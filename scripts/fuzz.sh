#!/usr/bin/env bash
# make fuzz: runs every fuzz target for FUZZ_SECONDS (default 60) from the committed corpus,
# then minimizes the corpus. A failure stops the run; its input is in fuzz/artifacts/TARGET/:
# add it to fuzz/regressions/TARGET/ so `make test` replays it (tests/fuzz_corpus.rs).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-request_json sse_framer ndjson_framer eventstream_framer aichat_answer openai_answer anthropic_answer bedrock_answer ollama_answer fast_paths}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in $targets; do
  echo "== $target: ${seconds}s"
  if ! cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -max_len=4096 >"$log" 2>&1; then
    grep -E 'panicked|SUMMARY|ERROR' "$log" || tail -20 "$log"
    echo "FAIL: $target; the input is in fuzz/artifacts/$target/"
    exit 1
  fi
  grep -E '^Done [0-9]+ runs' "$log"
  cargo +nightly fuzz cmin "$target" "corpus/$target" >/dev/null 2>&1
  echo "corpus: $(ls "corpus/$target" | wc -l) inputs"
done
