#!/usr/bin/env bash
# Interop with third-party peers: Python `websockets` and `wsproto` (PyPI, in a venv) and Node `ws` (npm).
#
#   bash scripts/interop/run.sh
#
# (a) each peer as a client against examples/echo_server.rs (the blocking adapter) and
#     examples/tokio_echo.rs (the tokio adapter) (scripts/interop/*_peer.* client), and
# (b) each peer as a server (*_peer.* server) with examples/interop_client.rs (the engine alone) and
#     examples/tokio_interop_client.rs (the tokio adapter) driving it.
# Every connection checks text (of 1- to 4-byte characters) and binary echo at 0, 125, 126, 65535, 65536 and
# 1 MiB bytes, a ping's pong, and one close: by the client or by the server (asked for with the text
# "close CODE REASON"), with 1000, 1001, 3000 or 4999 and a 123-byte multi-byte reason. The side that runs the
# sequence checks what it received; this script checks what the other side logged it received. Prints
# "N passed, M failed" and exits 1 on any failure. Installs into .interop/ (git-ignored); keeps every
# program's output in .interop/logs/. Everything listens on 127.0.0.1, runs under `timeout`, and is stopped
# by a trap. docs/interop.md says more.
set -euo pipefail
cd "$(dirname "$0")/../.."

DEPS=${INTEROP_HOME:-$PWD/.interop}
WEBSOCKETS_VERSION=17.4
WSPROTO_VERSION=1.3.2
WS_VERSION=8.23.0
# 123 bytes, the most a close frame can carry, of 1-, 2-, 3- and 4-byte characters.
REASON='Закрыто по просьбе — 连接已正常关闭 — 🚪👋 ¡Adiós, ça va! Ελλάδα 😀 ✓ ∞ 🙂!'
CODES=(1000 1001 3000 4999)
PEERS=(websockets wsproto ws)
LIMIT=120 # seconds for one program's whole run; each takes about a second

target=${CARGO_TARGET_DIR:-target}
logs=$DEPS/logs
python=$DEPS/venv/bin/python
export WS_DIR=$DEPS/node
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ beside the peers

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n==> %s\n' "$*"; }

apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "interop: need root to apt-get install $*" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -qq
    timeout 900 apt-get install -y -qq "$@" ||
        { timeout 900 apt-get --fix-broken install -y -qq && timeout 900 apt-get install -y -qq "$@"; }
}

# --- install ---------------------------------------------------------------------------------------------
say "install the peers into ${DEPS#"$PWD"/}/"
mkdir -p "$DEPS" "$logs"
if [ ! -x "$python" ]; then
    python3 -m venv "$DEPS/venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$DEPS/venv"; }
fi
want_py=("websockets==$WEBSOCKETS_VERSION" "wsproto==$WSPROTO_VERSION")
if ! "$python" -c "
import sys, importlib.metadata as m
sys.exit(any(m.version(p) != v for p, v in (a.split('==') for a in sys.argv[1:])))" "${want_py[@]}" 2>/dev/null; then
    timeout 300 "$python" -m pip install -q --disable-pip-version-check "${want_py[@]}"
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
fi
if [ "$(node -p "require('$WS_DIR/node_modules/ws/package.json').version" 2>/dev/null)" != "$WS_VERSION" ]; then
    mkdir -p "$WS_DIR"
    [ -f "$WS_DIR/package.json" ] || echo '{ "private": true }' >"$WS_DIR/package.json"
    timeout 300 npm install --prefix "$WS_DIR" --no-audit --no-fund --loglevel=error "ws@$WS_VERSION"
fi
echo "websockets $WEBSOCKETS_VERSION, wsproto $WSPROTO_VERSION (python $("$python" -c 'import platform; print(platform.python_version())')), ws $WS_VERSION (node $(node --version))"

say "build the examples (release)"
timeout 900 cargo build --quiet --release --example echo_server --example interop_client
timeout 900 cargo build --quiet --release -p rfc6455-benches --example tokio_echo
timeout 900 cargo build --quiet --release -p rfc6455-tests --example tokio_interop_client

# --- results ---------------------------------------------------------------------------------------------
passed=0
failed=0
# check OK WHAT [DETAIL]: one check of this script's own.
check() {
    if [ "$1" = true ]; then
        passed=$((passed + 1))
        echo "ok: $2" >>"$logs/checks.log"
    else
        failed=$((failed + 1))
        echo "FAIL: $2${3:+ ($3)}" | tee -a "$logs/checks.log"
    fi
}
# tally LOG RC WHAT: counts the ok/FAIL lines a program printed, shows its failures, and fails a program that
# exited non-zero without saying why.
tally() {
    local log=$1 rc=$2 what=$3 ok bad
    ok=$(grep -c '^ok: ' "$log" || true)
    bad=$(grep -c '^FAIL: ' "$log" || true)
    passed=$((passed + ok))
    failed=$((failed + bad))
    grep '^FAIL: ' "$log" || true
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        check false "$what exits 0" "exit status $rc; see ${log#"$PWD"/}"
    fi
    echo "$what: $ok ok, $bad failed"
}
# Waits for "listening on ..." in FILE while process PID lives; prints the rest of that line.
listening() {
    local file=$1 pid=$2 i
    for ((i = 0; i < 300; i++)); do
        if grep -qs "^listening on " "$file"; then
            sed -n 's/^listening on \([^ ]*\).*/\1/p' "$file" | head -n 1
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "interop: no 'listening on' in ${file#"$PWD"/}:" >&2
    cat "$file" >&2
    return 1
}
# Prints the last line of FILE that contains NEEDLE, waiting up to 5 s for one (a server may log a close
# just after the other side has seen the connection end).
logged() {
    local file=$1 needle=$2 i
    for ((i = 0; i < 50; i++)); do
        grep -qsF -- "$needle" "$file" && break
        sleep 0.1
    done
    grep -sF -- "$needle" "$file" | tail -n 1 || true
}
# Sets cmd to the command that runs the peer.
peer_command() {
    case $1 in
        websockets) cmd=("$python" scripts/interop/websockets_peer.py) ;;
        wsproto) cmd=("$python" scripts/interop/wsproto_peer.py) ;;
        ws) cmd=(node scripts/interop/ws_peer.mjs) ;;
    esac
}

[ "$(printf %s "$REASON" | wc -c)" -eq 123 ] || { echo "interop: REASON is not 123 bytes" >&2; exit 1; }
rm -f "$logs"/*

# --- (a) the peers as clients of our echo servers -----------------------------------------------------------
for server in echo_server tokio_echo; do
say "(a) each peer as a client of examples/$server.rs"
timeout 900 "$target/release/examples/$server" 127.0.0.1:0 >"$logs/$server.out" 2>"$logs/$server.err" &
server_pid=$!
pids+=("$server_pid")
url=$(listening "$logs/$server.out" "$server_pid")
for peer in "${PEERS[@]}"; do
    rc=0
    peer_command "$peer"
    timeout "$LIMIT" "${cmd[@]}" client "$url" "$REASON" >"$logs/$peer-client-$server.out" 2>&1 || rc=$?
    tally "$logs/$peer-client-$server.out" "$rc" "$peer client -> $server"
    for closer in client server; do
        for code in "${CODES[@]}"; do
            label=$peer-client/$closer-closes-$code
            line=$(logged "$logs/$server.err" " /test/close?case=$label: closed, ")
            saw=$(sed -E 's/^.*: closed, (code [0-9]+)( \([^)]*\))?, /\1, /' <<<"$line")
            want="code $code, reason \"$REASON\", clean true"
            check "$([ "$saw" = "$want" ] && echo true || echo false)" "$label: $server saw $code and the reason, clean" \
                "saw: ${saw:-nothing}"
        done
    done
done
kill "$server_pid" 2>/dev/null || true
done

# --- (b) the peers as servers for our client -------------------------------------------------------------
say "(b) examples/interop_client.rs and examples/tokio_interop_client.rs against each peer as a server"
for peer in "${PEERS[@]}"; do
    peer_command "$peer"
    timeout "$LIMIT" "${cmd[@]}" server >"$logs/$peer-server.out" 2>&1 &
    peer_pid=$!
    pids+=("$peer_pid")
    if ! port=$(listening "$logs/$peer-server.out" "$peer_pid"); then
        check false "the $peer server starts" "see ${logs#"$PWD"/}/$peer-server.out"
        continue
    fi
    for client in interop_client tokio_interop_client; do
    prefix=${client%%interop_client}
    : >"$logs/$peer-$client.out"
    rc_all=0
    for closer in client server; do
        for code in "${CODES[@]}"; do
            label=$peer-server/$prefix$closer-closes-$code
            rc=0
            timeout "$LIMIT" "$target/release/examples/$client" "ws://127.0.0.1:$port/$label" \
                --close-by "$closer" --code "$code" --reason "$REASON" --label "$label" \
                >>"$logs/$peer-$client.out" 2>&1 || rc=$?
            [ "$rc" -eq 0 ] || rc_all=$rc
        done
    done
    tally "$logs/$peer-$client.out" "$rc_all" "$client -> $peer server"
    for closer in client server; do
        for code in "${CODES[@]}"; do
            label=$peer-server/$prefix$closer-closes-$code
            want="closed /$label: received $code \"$REASON\""
            line=$(logged "$logs/$peer-server.out" "closed /$label: ")
            check "$([ "$line" = "$want" ] && echo true || echo false)" "$label: the $peer server saw $code and the reason" \
                "saw: ${line:-nothing}"
        done
    done
    done
    kill "$peer_pid" 2>/dev/null || true
done

echo
echo "logs in ${logs#"$PWD"/}/"
echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
