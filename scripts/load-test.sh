#!/usr/bin/env bash
# Load and overload tests of `typofix serve` on loopback with wrk (Debian's
# `wrk`), recorded in docs/RELIABILITY.md.
#   scripts/load-test.sh [DURATION_S]   (default 60 s per concurrency level)
# LEVELS="8 64" picks the concurrency levels (default "1 8 64"), and
# OVERLOAD=0 skips the overload part.
# Starts a release server on 127.0.0.1:18090, then
#   - concurrency 1, 8 and 64 on POST /v1/fix with 24 realistic sentences in
#     turn (from docs' examples and typical typos), reporting requests,
#     throughput, latency percentiles, non-2xx responses and the server's
#     RSS after each level (VmRSS) and its peak (VmHWM);
#   - overload: 512 connections against a server with a 64-job queue and a
#     2 s deadline, then concurrency 1 again on the same process, to show
#     that it sheds (429/504) and recovers without a restart.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-60}
typofix=target/release/typofix
port=18090
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cat >"$work/post.lua" <<'LUA'
local sentences = {
  "Thi sis a test sentenc with typos.",
  "The quikc brown fox jumps over teh lazy dog.",
  "I went too the stor to buy som milk.",
  "Their going to the park tomorow afternoon.",
  "Please recieve my apologies for the delay.",
  "We should of left earlier becuase of the traffic.",
  "The goverment anounced new rules on Monday.",
  "She is definately the best candidate for the job.",
  "Its a beautifull day to go for a walk.",
  "Let me know if you have any questions about the report.",
  "The meeting has been moved to Thursday at three.",
  "He didnt want to go, but his freinds insisted.",
  "The results were suprising to everyone in the lab.",
  "You're welcome to join us for dinner tonight.",
  "Your going to need a bigger boat.",
  "The commitee will review the proposal next week.",
  "I beleive this is the right decision.",
  "They bought a new house near the river.",
  "This paragraph has no typos at all, which is fine.",
  "Could you send me the adress of the hotel?",
  "The weather was to cold for swimming.",
  "We recomend updating to the latest version.",
  "The children played in the garden untill dark.",
  "A lot of people attended the conference this year.",
}
local n = 0
request = function()
  n = n + 1
  local s = sentences[(n % #sentences) + 1]
  local body = '{"text": "' .. s .. '"}'
  return wrk.format("POST", "/v1/fix", {["Content-Type"] = "application/json"}, body)
end
LUA

start_server() {
    "$typofix" serve --addr 127.0.0.1:$port "$@" 2>"$work/server.log" &
    server=$!
    for _ in $(seq 100); do
        grep -q listening "$work/server.log" 2>/dev/null && return
        sleep 0.1
    done
    echo "the server did not start" >&2; cat "$work/server.log" >&2; exit 1
}
rss() { grep -E 'VmRSS|VmHWM' /proc/$server/status | tr -s ' \n' ' '; echo; }
stop_server() { kill -TERM $server; wait $server; echo "server exit status: $?"; }

echo "== load: $typofix serve (defaults: 2 workers, max batch 32, queue 256, 10 s deadline)"
start_server
echo "RSS at start: $(rss)"
for c in ${LEVELS:-1 8 64}; do
    echo "-- concurrency $c, ${duration}s"
    wrk -t $(( c < 2 ? 1 : 2 )) -c $c -d ${duration}s --timeout 30s --latency -s "$work/post.lua" \
        http://127.0.0.1:$port/v1/fix
    echo "RSS after: $(rss)"
done
stop_server
[ "${OVERLOAD:-1}" = 0 ] && exit 0

echo "== overload: 512 connections, queue 64, deadline 2 s"
start_server --queue 64 --timeout-ms 2000
wrk -t 2 -c 512 -d ${duration}s --timeout 30s --latency -s "$work/post.lua" http://127.0.0.1:$port/v1/fix
echo "RSS after: $(rss)"
curl -s http://127.0.0.1:$port/metrics | grep -E '^typofix_http_requests_total' || true
echo "-- recovery on the same process: concurrency 1, 10 s"
wrk -t 1 -c 1 -d 10s --timeout 30s --latency -s "$work/post.lua" http://127.0.0.1:$port/v1/fix
stop_server
