#!/usr/bin/env bash
# The C ABI's checks, as CI runs them:
#   - the committed header is what cbindgen (pinned) makes of ffi/src;
#   - the library and the C programs build (scripts/c-build.sh: C99 -Werror,
#     ASan + UBSan, the echo server as C++);
#   - ffi/tests/api_test.c passes under the sanitizers;
#   - the C client (ASan) does its handshake, echo and close checks against
#     the Rust echo server, and the Rust command-line client talks to the C
#     echo server (ASan), which then stops on SIGINT with no leak;
#   - the pkg-config file builds a program against an installed copy.
# Autobahn runs the C programs too (scripts/autobahn/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
command -v cc >/dev/null || { apt-get update -qq && apt-get install -y -qq gcc g++ >/dev/null; }

step() { printf '== %s\n' "$*"; }
tmp=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# Waits for a "listening on ws://…" line in $1; prints the URL.
listening() {
    for _ in $(seq 200); do
        url=$(sed -n 's|^listening on \(ws://[^ ]*\).*$|\1|p' "$1")
        [ -n "$url" ] && { echo "$url"; return 0; }
        sleep 0.05
    done
    echo "no server started: $(cat "$1")" >&2
    return 1
}

step "the header matches ffi/src (cbindgen, pinned)"
bash scripts/c-header.sh --check

step "docs/c-api.md shows ffi/examples/minimal.c as it is"
python3 - <<'PY'
import re, sys
doc = open("docs/c-api.md").read()
blocks = re.findall(r"```c\n(.*?)```", doc, re.S)
if open("ffi/examples/minimal.c").read() not in blocks:
    sys.exit("docs/c-api.md's C loop differs from ffi/examples/minimal.c")
PY

step "build (scripts/c-build.sh)"
bash scripts/c-build.sh

step "ffi/tests/*.c under ASan + UBSan"
for test in "$TARGET"/c/*_test; do
    "$test"
done

step "the C client against the Rust echo server"
cargo build -q --release --example echo_server --example client
"$TARGET/release/examples/echo_server" 127.0.0.1:0 >"$tmp/rust.out" 2>"$tmp/rust.err" &
pids+=($!)
url=$(listening "$tmp/rust.out")
"$TARGET/c/client_asan" "$url"

step "the Rust client against the C echo server (ASan), which then stops cleanly"
"$TARGET/c/echo_server_asan" 127.0.0.1:0 >"$tmp/c.out" 2>"$tmp/c.err" &
c_pid=$!
pids+=("$c_pid")
url=$(listening "$tmp/c.out")
got=$(printf 'one\ntwo ✓\n' | timeout 20 "$TARGET/release/examples/client" "$url" 2>"$tmp/client.err")
[[ "$got" == $'one\ntwo ✓' ]] || { echo "the C echo server sent back: $got" >&2; exit 1; }
kill -INT "$c_pid"
wait "$c_pid" || { echo "the C echo server did not stop cleanly:" >&2; cat "$tmp/c.err" >&2; exit 1; }
grep -q 'closed, code 1000' "$tmp/c.err" || { echo "the C echo server saw no clean close:" >&2; cat "$tmp/c.err" >&2; exit 1; }

step "pkg-config: install to a prefix, build against it"
command -v pkg-config >/dev/null || { apt-get update -qq && apt-get install -y -qq pkg-config >/dev/null; }
bash ffi/install.sh "$tmp/prefix" >/dev/null
PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
export PKG_CONFIG_PATH
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror ffi/tests/api_test.c $(pkg-config --cflags --libs rfc6455) \
    -Wl,-rpath,"$tmp/prefix/lib" -o "$tmp/api_test_pc"
"$tmp/api_test_pc" 2>/dev/null
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror ffi/examples/echo_server.c $(pkg-config --cflags --libs rfc6455) \
    -Wl,-rpath,"$tmp/prefix/lib" -o "$tmp/echo_server_shared"
ldd "$tmp/echo_server_shared" | grep -q "$tmp/prefix/lib/librfc6455.so" || { echo "not linked to the installed .so" >&2; exit 1; }
echo "C ABI: all checks passed"
