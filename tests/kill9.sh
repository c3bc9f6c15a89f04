#!/usr/bin/env bash
# kill -9 at random moments of `drill start`, `drill run` and `drill submit`,
# COUNT times (default 20), then checks what PRODUCT.md promises ("nothing
# lost"): every record parses, no process the kit started is left running,
# no temporary folder is left behind, and every attempt can still be
# completed. CI runs it with a small count (.ci/run).
#
#   tests/kill9.sh [COUNT]        DRILL=path/to/drill (default target/debug/drill)
set -euo pipefail
COUNT=${1:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DRILL=${DRILL:-$ROOT/target/debug/drill}
# The script works in its own folder: a relative DRILL means from where it was called.
case $DRILL in /*) ;; *) DRILL=$PWD/$DRILL ;; esac
DRILL_ID=billing-ledger/retry-double-charge
[ -x "$DRILL" ] || { echo "kill9: no drill binary at $DRILL (cargo build --bin drill)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/drill-kill9.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export DRILL_CATALOG=$ROOT DRILL_RESULTS=$WORK/results TMPDIR=$WORK/tmp NO_COLOR=1
# Every process a drill command starts inherits this: an orphan is easy to find.
MARK="DRILL_KILL9_MARK=$WORK"
mkdir -p "$TMPDIR" "$WORK/home"
cd "$WORK/home"

fail() { echo "kill9: FAIL: $*" >&2; exit 1; }

# Processes (other than this script) that inherited the mark.
marked() {
  grep -lsz "^$MARK\$" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 | grep -vx "$$" || true
}

no_orphans() {
  local left
  for _ in $(seq 100); do
    left=$(marked)
    [ -z "$left" ] && return 0
    sleep 0.05
  done
  ps -o pid,ppid,pgid,args -p "$(echo "$left" | paste -sd,)" >&2 || true
  fail "processes left running after kill -9: $left"
}

# drill ARGS... in its own session (a process group), in the background.
# Called in $(...), so the killed command's parent is gone at once and PID 1
# reaps it, in some containers late: the sweep must take a zombie for gone.
launch() { env "$MARK" setsid "$DRILL" "$@" >/dev/null 2>&1 & echo $!; }

# One workspace for run/submit to be killed in.
env "$MARK" "$DRILL" start "$DRILL_ID" --lang go --engineer kill9 --dir base >"$WORK/first-start.log" 2>&1 \
  || { cat "$WORK/first-start.log" >&2; fail "the first start did not succeed"; }
killed=0 finished=0
for i in $(seq "$COUNT"); do
  case $((i % 3)) in
    0) dir=$WORK/home; max=3000; pid=$(launch start "$DRILL_ID" --lang go --engineer kill9 --dir "ws-$i") ;;
    1) dir=$WORK/home/base; max=4000; pid=$(cd base && launch run) ;;
    2) dir=$WORK/home/base; max=8000; pid=$(cd base && launch submit) ;;
  esac
  sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
  sleep $(( (RANDOM % max) / 1000 ))
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 -- "-$pid" 2>/dev/null || true
    killed=$((killed + 1))
  else
    finished=$((finished + 1))
  fi
  wait "$pid" 2>/dev/null || true
  no_orphans
done
echo "kill9: $killed kill -9(s), $finished command(s) finished first, of $COUNT"
left_dirs=$(find "$TMPDIR" -mindepth 2 -maxdepth 2 | wc -l)
left_bytes=$(du -sb "$TMPDIR" | cut -f1)
partials=$(find "$WORK/home" -maxdepth 1 -name '.drill-*' | wc -l)
echo "kill9: left by the kills: $left_dirs scratch folder(s), $left_bytes bytes in the temp folder, $partials claim/partial entr(ies) beside the workspaces"

# The next commands sweep what the kills left: a start in the same folder
# (claims and partial workspaces), a run (scratch folders).
env "$MARK" "$DRILL" start "$DRILL_ID" --lang go --engineer kill9 --dir final >/dev/null 2>&1 \
  || fail "a start after the kills did not succeed"
(cd base && env "$MARK" "$DRILL" status >/dev/null) || fail "the base attempt is unreadable"
no_orphans

# Every record parses (a damaged one makes `attempts` exit 6).
"$DRILL" attempts --json >"$WORK/attempts.json" || fail "drill attempts found damaged records"
left=$(find "$WORK/home" -maxdepth 1 -name '.drill-*' | wc -l)
[ "$left" -eq 0 ] || fail "leftovers of killed starts in the workspace folder: $(ls -A "$WORK/home")"
ws_dirs=$(find "$WORK/home" -mindepth 1 -maxdepth 1 -type d | wc -l)

# Every attempt can be completed: the base one with the reference fix, the others given up.
(cd base && git apply -R "$ROOT/drills/$DRILL_ID/go.patch") || fail "cannot apply the reference fix"
(cd base && env "$MARK" "$DRILL" submit >/dev/null 2>&1) || fail "the reference fix did not pass after the kills"
"$DRILL" attempts --json >"$WORK/attempts.json" || fail "drill attempts found damaged records"
open=$(python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["attempts"]
print(" ".join(a["attempt"] for a in rows if a["state"] in ("active", "paused")))
' "$WORK/attempts.json")
total=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["attempts"]))' "$WORK/attempts.json")
for id in $open; do
  "$DRILL" abandon --attempt "$id" >/dev/null || fail "attempt $id cannot be completed"
done
"$DRILL" attempts --json >"$WORK/attempts.json" || fail "drill attempts found damaged records"
still=$(python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["attempts"]
print(sum(a["state"] in ("active", "paused") for a in rows))
' "$WORK/attempts.json")
[ "$still" -eq 0 ] || fail "$still attempt(s) still open"
no_orphans

# Nothing left in the temp folder but the kit's (empty) scratch root.
leftover=$(find "$TMPDIR" -mindepth 1 | grep -v "^$TMPDIR/drillkit-[0-9]*\$" | head || true)
[ -z "$leftover" ] || fail "temporary files left behind: $leftover"
echo "kill9: temp folder after the next commands: $(du -sb "$TMPDIR" | cut -f1) bytes"
echo "kill9: ok: $total attempt(s) all completed, $ws_dirs workspace folder(s), every record parses, no orphan, no temp dir left"
