#!/usr/bin/env bash
# Benchmark of an engineer's drill loop with warm caches, per language:
#   - `drill start` to a ready workspace (target: under 5 s);
#   - the engineer's own incremental build after a one-line change;
#   - `drill submit` verdict after the fix (target: under 20 s).
# Usage: tests/bench/session.sh [DRILL_ID]   (default: billing-ledger/retry-double-charge)
# Prints one line per measurement; copy them into docs/benchmarks.md with the machine.
# Uses the real drill cache (warm); results and workspaces go to a temp dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked --bin drill >/dev/null
DRILL=$PWD/target/release/drill
ID=${1:-billing-ledger/retry-double-charge}
CATALOG=${DRILL_CATALOG:-$PWD}

work=$(mktemp -d)
cache=${DRILL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/drillkit}
cleanup() {
  # Rust attempts get a private build directory in the cache (runner/session/target_dir.rs).
  for r in "$work"/results/*.json; do
    [ -e "$r" ] && rm -rf "$cache/private/attempts/$(basename "$r" .json)"
  done
  rm -rf "$work"
}
trap cleanup EXIT
export DRILL_RESULTS=$work/results

machine="$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(go env GOVERSION), $(rustc --version | awk '{print $2}')"
echo "machine: $machine"

ms() { echo "$(( $1 / 1000 )).$(( ($1 % 1000) / 100 )) s"; }
now() { date +%s%N; }

for lang in go rust; do
  # A throwaway attempt first, so the caches are warm for this drill.
  (cd "$work" && "$DRILL" start "$ID" --lang "$lang" --engineer bench --dir "warmup-$lang" >/dev/null 2>&1)

  t=$(now)
  (cd "$work" && "$DRILL" start "$ID" --lang "$lang" --engineer bench --dir "ws-$lang" >/dev/null 2>&1)
  echo "$lang: drill start (warm): $(ms $(( ($(now) - t) / 1000000 )))"
  ws=$work/ws-$lang

  # The engineer's incremental build after a one-line change (a comment in
  # the file the bug lives in), measured the way they would run it.
  file=$(sed -n 's|^+++ b/||p' "$CATALOG/drills/$ID/$lang.patch" | head -1)
  echo "// benchmark: one-line change" >>"$ws/$file"
  if [ "$lang" = go ]; then build=(go build ./...); else build=(cargo build); fi
  t=$(now)
  (cd "$ws" && "${build[@]}" >/dev/null 2>&1)
  echo "$lang: engineer's incremental build after a one-line change: $(ms $(( ($(now) - t) / 1000000 )))"
  (cd "$ws" && git checkout -q -- "$file")

  # The fix (the reference fix: the bug patch reversed), then the verdict.
  (cd "$ws" && git apply -R "$CATALOG/drills/$ID/$lang.patch")
  t=$(now)
  (cd "$ws" && "$DRILL" submit >"$work/submit-$lang.txt" 2>&1) || { cat "$work/submit-$lang.txt"; exit 1; }
  echo "$lang: drill submit verdict (first submit of the attempt): $(ms $(( ($(now) - t) / 1000000 )))"
done
