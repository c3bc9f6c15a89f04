#!/usr/bin/env bash
# Benchmark: `drill bench --url` against oha on the same server at the same
# rate, both open loop with latency measured from the intended start
# (oha --latency-correction). Target: p50 within 5%, p99 within 10%.
# The server is the kit's reference server (`drill bench --serve-reference 5`):
# every answer takes 5 ms, so both tools should read about 5 ms.
# Installs oha with `cargo install` into a temp root (a benchmark, not CI).
# Usage: tests/bench/oha.sh [RATE...]   (default: 500 2000)
#   DURATION (s, default 20), CONNS (default 16), ROUNDS per rate (default 1; drill then oha each round)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked --bin drill >/dev/null
DRILL=$PWD/target/release/drill
TOOLS=${OHA_ROOT:-$PWD/target/bench-tools}
if [ ! -x "$TOOLS/bin/oha" ]; then
  echo "installing oha into $TOOLS (a few minutes, once)" >&2
  cargo install oha --locked --root "$TOOLS" >/dev/null 2>&1
fi
OHA=$TOOLS/bin/oha
RATES=("$@"); [ ${#RATES[@]} -gt 0 ] || RATES=(500 2000)
DURATION=${DURATION:-20}
CONNS=${CONNS:-16}

work=$(mktemp -d)
"$DRILL" bench --serve-reference 5 --serve-for 600 >"$work/url" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/url" ] && break; sleep 0.1; done
URL=$(head -n1 "$work/url")

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), $("$OHA" --version), load $(cut -d' ' -f1 /proc/loadavg)"
echo "server: reference, 5 ms per answer, $URL; $DURATION s per run, $CONNS connections"
ROUNDS=${ROUNDS:-1}
printf '%-10s %-6s %5s %10s %10s %10s %10s %8s\n' tool rate round p50_ms p99_ms req_s errors load
for rate in "${RATES[@]}"; do
  for round in $(seq "$ROUNDS"); do
    "$DRILL" bench --url "$URL" --rate "$rate" --duration "$DURATION" --warmup 1 \
      --connections "$CONNS" --json >"$work/drill.json"
    load_drill=$(cut -d' ' -f1 /proc/loadavg)
    "$OHA" "$URL" -z "${DURATION}s" -q "$rate" -c "$CONNS" --latency-correction \
      --no-tui --output-format json >"$work/oha.json"
    load_oha=$(cut -d' ' -f1 /proc/loadavg)
    python3 - "$rate" "$round" "$work/drill.json" "$work/oha.json" "$load_drill" "$load_oha" <<'PY'
import json, sys
rate, rnd, d, o = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), json.load(open(sys.argv[4]))
load_d, load_o = sys.argv[5], sys.argv[6]
dc, dr = d["latency_ms"]["corrected"], d["latency_ms"]["raw"]
op = o["latencyPercentiles"]
op50, op99 = op["p50"] * 1000, op["p99"] * 1000
derr = d["counts"]["failed"] + d["counts"]["status_5xx"]
oerr = sum(v for k, v in o.get("statusCodeDistribution", {}).items() if not k.startswith("2"))
# Requests cut off by oha's deadline are not failures of the server.
oerr += sum(v for k, v in o.get("errorDistribution", {}).items() if "deadline" not in k)
row = "{:10} {:6} {:5} {:10.3f} {:10.3f} {:10.1f} {:10} {:>8}"
print(row.format("drill", rate, rnd, dc["p50"], dc["p99"], d["achieved_rate"], derr, load_d))
print(row.format("drill-raw", rate, rnd, dr["p50"], dr["p99"], d["achieved_rate"], derr, load_d))
print(row.format("oha", rate, rnd, op50, op99, o["summary"]["requestsPerSec"], oerr, load_o))
diff = lambda a, b: (a - b) / b * 100
print(f"           drill vs oha: p50 {diff(dc['p50'], op50):+.1f}%, p99 {diff(dc['p99'], op99):+.1f}%"
      f"   (drill raw vs oha: p50 {diff(dr['p50'], op50):+.1f}%, p99 {diff(dr['p99'], op99):+.1f}%)")
PY
  done
done
