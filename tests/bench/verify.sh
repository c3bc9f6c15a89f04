#!/usr/bin/env bash
# Benchmark of `drill verify` over the catalog, cold and warm caches.
# Usage: tests/bench/verify.sh [DRILL IDS...]   (default: the whole catalog)
# Prints one line per measurement; copy them into docs/benchmarks.md with the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked --bin drill >/dev/null
DRILL=$PWD/target/release/drill
RUNS=${RUNS:-3}

cold_cache=$(mktemp -d)
trap 'rm -rf "$cold_cache"' EXIT

machine="$(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(go env GOVERSION), $(rustc --version | awk '{print $2}')"
echo "machine: $machine"

# Cold: an empty drill cache (no shared Cargo target dir) and an empty Go build cache.
# Go modules and crates stay downloaded: downloads measure the network, not the kit.
start=$(date +%s%N)
DRILL_CACHE=$cold_cache GOCACHE=$cold_cache/go-build "$DRILL" verify --runs "$RUNS" "$@" >/tmp/drill-bench-cold.txt 2>&1 || { cat /tmp/drill-bench-cold.txt; exit 1; }
cold_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "verify cold (--runs $RUNS): $((cold_ms / 1000)).$(( (cold_ms % 1000) / 100 )) s"

# Warm: the same caches again.
start=$(date +%s%N)
DRILL_CACHE=$cold_cache GOCACHE=$cold_cache/go-build "$DRILL" verify --runs "$RUNS" "$@" >/tmp/drill-bench-warm.txt 2>&1 || { cat /tmp/drill-bench-warm.txt; exit 1; }
warm_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "verify warm (--runs $RUNS): $((warm_ms / 1000)).$(( (warm_ms % 1000) / 100 )) s"

# Per-check timing of one clean suite per language, from the JSON report.
DRILL_CACHE=$cold_cache GOCACHE=$cold_cache/go-build "$DRILL" verify --runs 1 --json "$@" >/tmp/drill-bench.json 2>/dev/null || true
python3 - <<'PY'
import json
r = json.load(open('/tmp/drill-bench.json'))
for j in r['jobs']:
    label = j['drill'] or (j['scenario'] + ' (clean)')
    steps = ', '.join(f"{s['name']} {s['duration_ms']/1000:.1f}s" for s in j['steps'])
    print(f"  {label} [{j['lang']}]: {j['duration_ms']/1000:.1f}s: {steps}")
    if j['drill'] is None:
        for c in j.get('checks', []):
            print(f"    check {c['name']}: {c['duration_ms']/1000:.2f}s ({c['outcome']})")
PY
