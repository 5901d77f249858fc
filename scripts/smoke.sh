#!/usr/bin/env bash
# Smoke test of the examples: the echo server and the command-line client
# talk over loopback; the page and a 404 are fetched with bash's /dev/tcp.
# Needs only cargo (and perl, already on Debian, for the non-101 check).
#
#   bash scripts/smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."

target=${CARGO_TARGET_DIR:-target}
server_bin=$target/release/examples/echo_server
client=$target/debug/examples/client

tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

step() { printf '== %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    for f in "$tmp"/*.err; do [ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
    exit 1
}

# Starts an echo server on a free loopback port; sets $url and $port.
start_server() {
    local name=$1
    "$server_bin" 127.0.0.1:0 >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=($!)
    server_pid=$!
    for _ in $(seq 100); do
        grep -q '^listening on ' "$tmp/$name.out" && break
        sleep 0.1
    done
    url=$(sed -n 's|^listening on \(ws://[^ ]*\)$|\1|p' "$tmp/$name.out")
    [ -n "$url" ] || fail "the echo server did not start"
    port=${url%/}
    port=${port##*:}
}

# Sends a plain HTTP request with bash's /dev/tcp and prints the response.
http_get() {
    local path=$1
    timeout 10 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1"
        printf "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n" "$2" "$1" >&3
        cat <&3' _ "$port" "$path"
}

step "build"
timeout 900 cargo build --quiet --release --example echo_server
timeout 900 cargo build --quiet --example client

start_server server
echo "server at $url"

step "echo: ASCII, multi-byte UTF-8, an empty line, a 300 kB line, no final newline"
big=$(head -c 300000 /dev/zero | tr '\0' 'x')
lines=("hello" "héllo wörld — 你好, мир 🚀" "" "tab	and  two spaces" "$big" "last line, no newline")
{
    printf '%s\n' "${lines[@]:0:${#lines[@]}-1}"
    printf '%s' "${lines[-1]}"
} >"$tmp/input"
printf '%s\n' "${lines[@]}" >"$tmp/expected"
rc=0
timeout 30 "$client" "${url}chat" --protocol echo.v1 <"$tmp/input" >"$tmp/echo.out" 2>"$tmp/echo.err" || rc=$?
[ "$rc" -eq 0 ] || fail "the client exited with $rc"
cmp -s "$tmp/expected" "$tmp/echo.out" || fail "the echoed lines differ: $(diff "$tmp/expected" "$tmp/echo.out" | cut -c1-100 | head -n 10)"
grep -q 'protocol echo.v1' "$tmp/echo.err" || fail "the subprotocol was not agreed: $(cat "$tmp/echo.err")"
grep -q 'code 1000' "$tmp/echo.err" || fail "no close code 1000: $(cat "$tmp/echo.err")"
grep -q 'was_clean true' "$tmp/echo.err" || fail "not a clean close: $(cat "$tmp/echo.err")"
echo "ok: ${#lines[@]} lines echoed identically; $(grep '^closed' "$tmp/echo.err")"

step "four clients at once"
for i in 1 2 3 4; do
    seq "$i" 200 | timeout 30 "$client" "${url}n$i" >"$tmp/many$i.out" 2>"$tmp/many$i.err" &
    many[i]=$!
done
for i in 1 2 3 4; do
    rc=0
    wait "${many[i]}" || rc=$?
    [ "$rc" -eq 0 ] || fail "client $i exited with $rc"
    seq "$i" 200 | cmp -s - "$tmp/many$i.out" || fail "client $i got different lines back"
done
echo "ok"

step "the page and a 404"
page=$(http_get /)
grep -q '^HTTP/1.1 200' <<<"$page" || fail "GET / did not answer 200: $(head -n 1 <<<"$page")"
grep -q 'text/html' <<<"$page" || fail "GET / is not HTML"
grep -q 'id="ready-state"' <<<"$page" || fail "GET / is not the echo page"
missing=$(http_get /missing)
grep -q '^HTTP/1.1 404' <<<"$missing" || fail "GET /missing did not answer 404: $(head -n 1 <<<"$missing")"
echo "ok: / is 200 text/html, /missing is 404"

step "a peer that never reads is dropped by the write timeout"
# It sends echo requests and reads nothing: once the socket buffers are full
# the server's writes make no progress, and its 10 s write timeout must end
# the connection (without it the thread would wait forever).
timeout 150 python3 - "$port" >"$tmp/stall.out" 2>"$tmp/stall.err" <<'PY' || fail "the stalled peer check: $(cat "$tmp/stall.err")"
import os, socket, struct, sys, time
port = int(sys.argv[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.sendall(b"GET /stall HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
assert head.startswith(b"HTTP/1.1 101"), head
payload = os.urandom(65536)
frame = bytes([0x82, 0x80 | 127]) + struct.pack(">Q", len(payload)) + b"\0\0\0\0" + payload
s.settimeout(1)
start = time.time()
while time.time() - start < 120:
    try:
        s.send(frame)
    except socket.timeout:
        continue
    except OSError as e:
        print(f"the server dropped the stalled connection after {time.time() - start:.1f} s ({e.strerror})")
        sys.exit(0)
sys.exit("the server kept the stalled connection for 120 s")
PY
grep -q 'write failed' "$tmp/server.err" || fail "the server did not report the failed write: $(tail -n 3 "$tmp/server.err")"
echo "ok: $(cat "$tmp/stall.out")"

step "failures exit non-zero"
rc=0
timeout 10 "$client" "wss://127.0.0.1:$port/" </dev/null >/dev/null 2>"$tmp/wss.err" || rc=$?
[ "$rc" -ne 0 ] || fail "a wss:// URL exited 0"
grep -q 'TLS' "$tmp/wss.err" || fail "wss:// does not say TLS is not supported"
echo "ok: wss:// exits $rc: $(cat "$tmp/wss.err")"

start_server closed
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
rc=0
timeout 10 "$client" "$url" </dev/null >/dev/null 2>"$tmp/refused.err" || rc=$?
[ "$rc" -ne 0 ] || fail "a closed port exited 0"
echo "ok: a closed port exits $rc: $(cat "$tmp/refused.err")"

if command -v perl >/dev/null; then
    # A one-shot HTTP server that refuses the upgrade with 403.
    perl -MIO::Socket::INET -e '
        my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1, ReuseAddr => 1) or die $!;
        $| = 1; print $l->sockport, "\n";
        my $c = $l->accept or die $!;
        local $/ = "\r\n\r\n"; my $request = <$c>;
        print $c "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        close $c;' >"$tmp/refuser.out" 2>"$tmp/refuser.err" &
    pids+=($!)
    for _ in $(seq 100); do [ -s "$tmp/refuser.out" ] && break; sleep 0.1; done
    rc=0
    timeout 10 "$client" "ws://127.0.0.1:$(head -n 1 "$tmp/refuser.out")/" </dev/null >/dev/null 2>"$tmp/403.err" || rc=$?
    [ "$rc" -ne 0 ] || fail "a 403 answer exited 0"
    grep -q '403' "$tmp/403.err" || fail "the 403 is not reported: $(cat "$tmp/403.err")"
    echo "ok: a 403 answer exits $rc: $(head -n 1 "$tmp/403.err")"
else
    echo "skipped: the non-101 check needs perl"
fi

echo "smoke: all checks passed"
