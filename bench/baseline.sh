#!/usr/bin/env bash
# Builds the library as it was at a git revision into target/bench/baseline/, so that
# `make bench` can measure the current library against it in the same session:
#   bench/baseline.sh REV && AICHAT_BENCH_BASELINE_LIB=target/bench/baseline AICHAT_BENCH_BASELINE_REV=REV make bench
# The benchmark programs are built against the current header and run on the old library with
# LD_LIBRARY_PATH; only modes whose functions the old library has can be compared.
set -euo pipefail
rev=${1:?usage: bench/baseline.sh REV}
repo=$(cd "$(dirname "$0")/.." && pwd)
tree="$repo/target/bench/baseline-src"
rm -rf "$tree"
git -C "$repo" worktree prune
git -C "$repo" worktree add --detach "$tree" "$rev" >/dev/null
trap 'git -C "$repo" worktree remove --force "$tree"' EXIT
(cd "$tree" && CARGO_TARGET_DIR="$repo/target/bench/baseline-target" cargo build --release -p aichat)
mkdir -p "$repo/target/bench/baseline"
cp "$repo/target/bench/baseline-target/release/libaichat.so" "$repo/target/bench/baseline/libaichat.so.0"
echo "baseline library of $rev in target/bench/baseline/"
