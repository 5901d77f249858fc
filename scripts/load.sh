#!/usr/bin/env bash
# Load on loopback: our engine under tokio (examples/tokio_echo.rs), a
# tokio-tungstenite and a fastwebsockets echo server (benches/peer_echo.rs),
# each driven by the same generator (examples/loadgen.rs):
#
#   - messages per second, 100 connections x 20 B and 200 connections x 16 KiB;
#   - resident memory per connection with 10 000 idle connections open (a
#     fresh server process, its VmRSS before and with them open).
#
# Everything runs on 127.0.0.1, each run bounded (<= 30 s, <= 20 000
# connections). Servers and generator get one tokio worker each by default,
# so on a 2-core machine each side has a core. Writes target/perf/load.json,
# which scripts/perf-report.py puts into docs/performance.md.
#
#   bash scripts/load.sh                 # SECS=10 IDLE=10000 THREADS=1 by default
set -euo pipefail
cd "$(dirname "$0")/.."

SECS=${SECS:-10}
IDLE=${IDLE:-10000}
THREADS=${THREADS:-1}
OUT=target/perf/load.json
BIN=target/release/examples

# 10 000 connections need more than 10 000 descriptors in each process.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -le $((IDLE + 100)) ]; then
    echo "open files limited to $(ulimit -n): cannot hold $IDLE connections" >&2
    exit 1
fi

cargo build --release -p rfc6455-benches --example tokio_echo --example loadgen
cargo build --release -p rfc6455-benches --example peer_echo
mkdir -p target/perf
LOG=$(mktemp -d)
SERVER_PID=

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT

# start_server NAME: starts it on a free port; sets SERVER_PID and ADDR.
start_server() {
    case $1 in
        rfc6455) "$BIN/tokio_echo" 127.0.0.1:0 --threads "$THREADS" >"$LOG/server.out" 2>"$LOG/server.err" & ;;
        *) "$BIN/peer_echo" "$1" 127.0.0.1:0 --threads "$THREADS" >"$LOG/server.out" 2>"$LOG/server.err" & ;;
    esac
    SERVER_PID=$!
    ADDR=
    for _ in $(seq 50); do
        ADDR=$(sed -n 's#^listening on ws://\(.*\)/$#\1#p' "$LOG/server.out")
        [ -n "$ADDR" ] && return
        sleep 0.1
    done
    echo "$1 did not start" >&2
    cat "$LOG/server.err" >&2
    exit 1
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# rate ARGS...: runs the generator, prints its messages per second.
rate() {
    "$BIN/loadgen" "$ADDR" --threads "$THREADS" --secs "$SECS" "$@" | tee -a "$LOG/loadgen.out" >&2
    sed -n 's/.*messages_per_sec=\([0-9]*\).*/\1/p' "$LOG/loadgen.out" | tail -1
}

json="{\n  \"date\": \"$(date -u +%Y-%m-%dT%H:%MZ)\",\n  \"secs\": $SECS,\n  \"idle_connections\": $IDLE,"
json+="\n  \"threads\": $THREADS,\n  \"load_average\": \"$(cut -d' ' -f1-3 /proc/loadavg)\",\n  \"servers\": {"
sep=
for server in rfc6455 tungstenite fastwebsockets; do
    echo "== $server" >&2
    start_server "$server"
    small=$(rate --conns 100 --size 20)
    large=$(rate --conns 200 --size 16384)
    stop_server

    # A fresh process for memory, so the throughput runs' buffers do not count.
    start_server "$server"
    sleep 0.5
    base=$(rss_kib "$SERVER_PID")
    "$BIN/loadgen" "$ADDR" --threads "$THREADS" --idle "$IDLE" --hold 20 >"$LOG/idle.out" 2>&1 &
    gen=$!
    held=
    for _ in $(seq 250); do
        if grep -q '^ready' "$LOG/idle.out"; then
            sleep 1
            held=$(rss_kib "$SERVER_PID")
            break
        fi
        kill -0 "$gen" 2>/dev/null || break
        sleep 0.1
    done
    wait "$gen" || { cat "$LOG/idle.out" >&2; exit 1; }
    stop_server
    [ -n "$held" ] || { echo "$server: the idle connections never got ready" >&2; exit 1; }
    per=$(( (held - base) * 1024 / IDLE ))
    echo "$server: ${small} msg/s (100 x 20 B), ${large} msg/s (200 x 16 KiB), RSS ${base} -> ${held} KiB with $IDLE idle: ${per} B/connection" >&2

    json+="$sep\n    \"$server\": {\"small_msgs_per_sec\": $small, \"large_msgs_per_sec\": $large, "
    json+="\"rss_base_kib\": $base, \"rss_idle_kib\": $held, \"rss_per_idle_connection\": $per}"
    sep=,
done
json+="\n  }\n}\n"
printf "%b" "$json" >"$OUT"
echo "written to $OUT" >&2
rm -rf "$LOG"
