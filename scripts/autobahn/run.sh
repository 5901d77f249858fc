#!/usr/bin/env bash
# Autobahn|Testsuite against the engine in both roles, then docs/conformance.md from the reports.
#
#   bash scripts/autobahn/run.sh
#
# (a) server: `wstest -m fuzzingclient` against examples/echo_server.rs (blocking adapter),
#     examples/tokio_echo.rs (tokio adapter) and ffi/examples/echo_server.c (the C ABI, built with
#     AddressSanitizer: it is stopped with SIGINT at the end, and a leak fails the run);
# (b) client: examples/autobahn_client.rs (the engine alone), examples/tokio_autobahn_client.rs and
#     ffi/examples/client.c (ASan) against `wstest -m fuzzingserver`.
# Cases 1.* to 10.* (301 cases); 12.* and 13.* are permessage-deflate, which the engine does not implement.
# Exits non-zero unless every case is OK in behaviour and close behaviour (INFORMATIONAL is accepted for
# 7.1.6 and 7.13.*, whose outcome the suite leaves to the implementation). Everything listens on 127.0.0.1.
# Reports go to .autobahn/reports/{servers,clients}/index.html.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROOT=${AUTOBAHN_HOME:-$PWD/.autobahn} # where install.sh puts wstest
OUT=$PWD/.autobahn/reports
SERVER_PORT=${AUTOBAHN_SERVER_PORT:-9101} # our echo server, for fuzzingclient
FUZZ_PORT=${AUTOBAHN_FUZZ_PORT:-9102}     # wstest's fuzzingserver, for our client
TOKIO_PORT=${AUTOBAHN_TOKIO_PORT:-9103}   # our tokio adapter's echo server, for fuzzingclient
C_PORT=${AUTOBAHN_C_PORT:-9104}           # the C echo server, for fuzzingclient
SERVER_AGENT=rfc6455-server
CLIENT_AGENT=rfc6455-client
TOKIO_SERVER_AGENT=rfc6455-tokio-server
TOKIO_CLIENT_AGENT=rfc6455-tokio-client
C_SERVER_AGENT=rfc6455-c-server
C_CLIENT_AGENT=rfc6455-c-client
RUN_LIMIT=900 # seconds for one role's whole run; a run takes about 20 s
TARGET=${CARGO_TARGET_DIR:-target}

say() { printf '\n==> %s\n' "$*" >&2; }

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits for a background job; waiting (rather than running in the foreground) lets a signal stop the run
# at once, and the job is killed on exit like the servers.
waited() {
    pids+=("$1")
    wait "$1"
}
# Fails if something already listens on the port, so we never test someone else's server.
port_free() {
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
        echo "port $1 is in use; set AUTOBAHN_SERVER_PORT / AUTOBAHN_FUZZ_PORT" >&2
        return 1
    fi
}
# Waits up to 30 s for a listener on the port, as long as process $2 lives.
wait_port() {
    local i
    for ((i = 0; i < 300; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { echo "the process for port $1 exited" >&2; return 1; }
        sleep 0.1
    done
    echo "nothing listens on port $1 after 30 s" >&2
    return 1
}

say "install wstest"
started=$SECONDS
AUTOBAHN_HOME=$ROOT timeout 600 bash scripts/autobahn/install.sh
install_seconds=$((SECONDS - started))

if [[ ! -f examples/echo_server.rs ]]; then
    echo "examples/echo_server.rs is missing" >&2
    exit 1
fi
say "build the examples (release)"
timeout 900 cargo build --release --example echo_server --example autobahn_client
timeout 900 cargo build --release -p rfc6455-benches --example tokio_echo
timeout 900 cargo build --release -p rfc6455-tests --example tokio_autobahn_client
timeout 900 bash scripts/c-build.sh

rm -rf "$OUT"
mkdir -p "$OUT"
EXCLUDE='["12.*", "13.*"]'
cat >"$OUT/fuzzingclient.json" <<EOF
{
   "outdir": "$OUT/servers",
   "servers": [{"agent": "$SERVER_AGENT", "url": "ws://127.0.0.1:$SERVER_PORT"},
               {"agent": "$TOKIO_SERVER_AGENT", "url": "ws://127.0.0.1:$TOKIO_PORT"},
               {"agent": "$C_SERVER_AGENT", "url": "ws://127.0.0.1:$C_PORT"}],
   "cases": ["*"],
   "exclude-cases": $EXCLUDE,
   "exclude-agent-cases": {}
}
EOF
cat >"$OUT/fuzzingserver.json" <<EOF
{
   "url": "ws://127.0.0.1:$FUZZ_PORT",
   "outdir": "$OUT/clients",
   "cases": ["*"],
   "exclude-cases": $EXCLUDE,
   "exclude-agent-cases": {}
}
EOF

say "(a) server role: wstest -m fuzzingclient against echo_server on 127.0.0.1:$SERVER_PORT, tokio_echo on :$TOKIO_PORT, echo_server.c on :$C_PORT"
port_free "$SERVER_PORT"
port_free "$TOKIO_PORT"
port_free "$C_PORT"
timeout "$RUN_LIMIT" "$TARGET/release/examples/echo_server" "127.0.0.1:$SERVER_PORT" >"$OUT/echo_server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
timeout "$RUN_LIMIT" "$TARGET/release/examples/tokio_echo" "127.0.0.1:$TOKIO_PORT" >"$OUT/tokio_echo.log" 2>&1 &
tokio_pid=$!
pids+=("$tokio_pid")
# Not under `timeout`: it must get the SIGINT itself, to free everything and let LeakSanitizer report.
"$TARGET/c/echo_server_asan" "127.0.0.1:$C_PORT" >"$OUT/echo_server_c.log" 2>&1 &
c_pid=$!
pids+=("$c_pid")
wait_port "$SERVER_PORT" "$server_pid"
wait_port "$TOKIO_PORT" "$tokio_pid"
wait_port "$C_PORT" "$c_pid"
started=$SECONDS
(cd "$OUT" && exec timeout "$RUN_LIMIT" "$ROOT/bin/wstest" -m fuzzingclient -s fuzzingclient.json) \
    >"$OUT/fuzzingclient.log" 2>&1 &
waited $! || { tail -20 "$OUT/fuzzingclient.log" >&2; exit 1; }
server_seconds=$((SECONDS - started))
kill "$server_pid" "$tokio_pid" 2>/dev/null || true
echo "$(grep -c '^Running test case' "$OUT/fuzzingclient.log") cases in ${server_seconds} s" >&2
kill -INT "$c_pid"
if ! wait "$c_pid"; then
    echo "the C echo server did not stop cleanly (AddressSanitizer or LeakSanitizer found something):" >&2
    grep -v '^fd ' "$OUT/echo_server_c.log" | tail -40 >&2
    exit 1
fi
echo "the C echo server (ASan) stopped cleanly: no leak, no memory error" >&2

say "(b) client role: autobahn_client against wstest -m fuzzingserver on 127.0.0.1:$FUZZ_PORT"
port_free "$FUZZ_PORT"
(cd "$OUT" && exec timeout "$RUN_LIMIT" "$ROOT/bin/wstest" -m fuzzingserver -s fuzzingserver.json --webport 0) \
    >"$OUT/fuzzingserver.log" 2>&1 &
fuzz_pid=$!
pids+=("$fuzz_pid")
wait_port "$FUZZ_PORT" "$fuzz_pid"
# Runs one client against the fuzzing server to its end: COMMAND... URL AGENT; sets `seconds`.
run_client() { # LOG AGENT COMMAND...
    local log=$OUT/$1.log agent=$2 started=$SECONDS
    shift 2
    timeout "$RUN_LIMIT" "$@" "ws://127.0.0.1:$FUZZ_PORT" "$agent" >"$log" 2>&1 &
    waited $! || { tail -20 "$log" >&2; exit 1; }
    grep -v '^case ' "$log" >&2 || true
    seconds=$((SECONDS - started))
}
run_client autobahn_client "$CLIENT_AGENT" "$TARGET/release/examples/autobahn_client"
client_seconds=$seconds
run_client tokio_autobahn_client "$TOKIO_CLIENT_AGENT" "$TARGET/release/examples/tokio_autobahn_client"
tokio_client_seconds=$seconds
# ASan: a leak or a memory error makes the client exit non-zero, which fails the run.
run_client client_c "$C_CLIENT_AGENT" "$TARGET/c/client_asan" --autobahn
c_client_seconds=$seconds
kill "$fuzz_pid" 2>/dev/null || true

say "verdicts"
python3 scripts/autobahn/summarize.py \
    --role "Server" "$OUT/servers/index.json" "$SERVER_AGENT" "$server_seconds" \
    "\`wstest -m fuzzingclient\` against \`examples/echo_server.rs\` (the blocking adapter)" \
    --role "Client" "$OUT/clients/index.json" "$CLIENT_AGENT" "$client_seconds" \
    "\`examples/autobahn_client.rs\` (the engine alone) against \`wstest -m fuzzingserver\`" \
    --role "Server, tokio adapter" "$OUT/servers/index.json" "$TOKIO_SERVER_AGENT" - \
    "\`wstest -m fuzzingclient\` against \`examples/tokio_echo.rs\`, in the same run" \
    --role "Client, tokio adapter" "$OUT/clients/index.json" "$TOKIO_CLIENT_AGENT" "$tokio_client_seconds" \
    "\`examples/tokio_autobahn_client.rs\` against \`wstest -m fuzzingserver\`" \
    --role "Server, C ABI" "$OUT/servers/index.json" "$C_SERVER_AGENT" - \
    "\`wstest -m fuzzingclient\` against \`ffi/examples/echo_server.c\` (AddressSanitizer and UBSan build), in the same run; stopped with SIGINT afterwards, with no leak reported" \
    --role "Client, C ABI" "$OUT/clients/index.json" "$C_CLIENT_AGENT" "$c_client_seconds" \
    "\`ffi/examples/client.c --autobahn\` (AddressSanitizer and UBSan build) against \`wstest -m fuzzingserver\`" \
    --wstest "$("$ROOT/bin/wstest" --autobahnversion 2>/dev/null | tail -1)" \
    --out docs/conformance.md
echo "install ${install_seconds} s, server run ${server_seconds} s, client run ${client_seconds} s;" \
    "reports in ${OUT#"$PWD"/}/{servers,clients}/index.html" >&2
