#!/usr/bin/env bash
# Benchmark: `drill stats` and `drill report` over 100,000 attempt records.
#
# Generates N records (default 100000) in the documented results format with
# the `gen-results` example (tests/bench/gen_results.rs: 40 engineers, 8
# classes, both languages, ~12% give-ups, pauses, seeded), then times each
# command 3 times on a warm page cache and prints wall time and peak RSS
# (GNU time). Targets: stats < 2 s and < 200 MB; report < 5 s.
# Figures are recorded in docs/benchmarks.md ("stats and report").
#
#   tests/bench/stats.sh            # 100,000 records
#   N=20000 tests/bench/stats.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-100000}
RUNS=${RUNS:-3}
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (/usr/bin/time; apt-get install time)" >&2; exit 1; }

cargo build --release --locked --bin drill --example gen-results
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
./target/release/examples/gen-results "$DIR/results" "$N" 1
du -sh "$DIR/results" | awk '{print "dataset: " $1 " on disk"}'

measure() {
  local name=$1; shift
  for i in $(seq "$RUNS"); do
    /usr/bin/time -f "$name run $i: %e s wall, %U s user, %S s sys, %M KiB peak RSS" \
      "$@" >/dev/null 2>"$DIR/err" || { cat "$DIR/err" >&2; exit 1; }
    tail -n 1 "$DIR/err"
  done
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "records: $N"
measure "drill stats" ./target/release/drill stats --results "$DIR/results"
measure "drill stats --json" ./target/release/drill stats --json --results "$DIR/results"
measure "drill report" ./target/release/drill report --out "$DIR/report.html" --results "$DIR/results"
ls -l "$DIR/report.html" | awk '{printf "report size: %.1f MB\n", $5/1e6}'
