#!/usr/bin/env bash
# measure.sh: how long the README's test command and the offline plan take.
#
#   scripts/measure.sh [--cold] [--benchtime N]
#
# Steps (each under /usr/bin/time -v, with the load average before it):
#   cold    (only with --cold; ~10 min on 2 cores) go test -count=1 ./...
#           with an empty GOCACHE, so every SDK package compiles
#   warm    go test -count=1 ./...   (build cache warm, tests re-run)
#   edit    a comment appended to stacks/stacks.go (restored afterwards),
#           then go test -count=1 ./tests/: the rebuild and relink after an edit
#   bench   go test -run XXX -bench BenchmarkPlanProd -benchtime Nx ./tests/
#           (one offline plan of prod per iteration; default N = 20)
#
# Wall is elapsed time; max RSS is the largest resident set of any single
# process of the step (the linker, a compiler or the test binary), as
# /usr/bin/time reports it. The machine is shared: read the load average
# next to each figure.
set -euo pipefail
cd "$(dirname "$0")/.."

cold=false
benchtime=20
while [ $# -gt 0 ]; do
  case "$1" in
    --cold) cold=true ;;
    --benchtime) benchtime="$2"; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "measure.sh: unknown argument $1 (want --cold, --benchtime N)" >&2; exit 2 ;;
  esac
  shift
done

[ -x /usr/bin/time ] || { echo "measure.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

work=$(mktemp -d)
edited=stacks/stacks.go
cp "$edited" "$work/edited.orig"
restore() {
  cp "$work/edited.orig" "$edited"
  [ -n "${cold_cache:-}" ] && chmod -R u+w "$cold_cache" 2>/dev/null && rm -rf "$cold_cache"
  rm -rf "$work"
}
trap restore EXIT

rows=()
load() { awk '{print $1" "$2" "$3}' /proc/loadavg; }

# measure NAME CMD...: run CMD under /usr/bin/time -v, keep its output in
# $work/NAME.out, and add a row to the table.
measure() {
  local name=$1 before
  shift
  before=$(load)
  echo "==> $name: $* (load before: $before)" >&2
  if ! /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>&1; then
    cat "$work/$name.out" >&2
    echo "measure.sh: step $name failed" >&2
    exit 1
  fi
  local wall rss
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/$name.time")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/$name.time")
  rows+=("$(awk -v n="$name" -v w="$wall" -v r="$rss" -v l="$before" 'BEGIN {printf "%-6s %10s %9.2f GB   %s", n, w, r / 1048576, l}')")
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(go version)" >&2
echo "uptime: $(uptime)" >&2

if $cold; then
  cold_cache=$(mktemp -d)
  measure cold env GOCACHE="$cold_cache" go test -count=1 ./...
fi
measure warm go test -count=1 ./...
printf '\n// measure.sh edit %s\n' "$(date +%s%N)" >>"$edited"
measure edit go test -count=1 ./tests/
cp "$work/edited.orig" "$edited"
measure bench go test -run XXX -bench BenchmarkPlanProd -benchtime "${benchtime}x" ./tests/

echo
printf '%-6s %10s %12s   %s\n' step wall "max RSS" "load (1, 5, 15 min) before"
printf '%s\n' "${rows[@]}"
echo
grep -E '^BenchmarkPlanProd' "$work/bench.out" | awk '{printf "BenchmarkPlanProd: %s iterations, %.1f ms per plan of prod\n", $2, $3 / 1e6}'
echo "uptime after: $(uptime)"
