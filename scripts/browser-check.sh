#!/usr/bin/env bash
# Headless Chromium against the echo server: its page, and the checks of scripts/browser-check.mjs
# (readyState, echo, closes both ways, a dropped connection, invalid UTF-8, subprotocol, no deflate).
# Installs what is missing: Debian's chromium and node with apt (as root), and
# playwright-core with npm into scripts/.browser/ (git-ignored). It never
# downloads a browser of its own.
#
#   bash scripts/browser-check.sh [SCREENSHOT.png]    # default: a temp file
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=scripts/.browser
target=${CARGO_TARGET_DIR:-target}
tmp=$(mktemp -d)
screenshot=${1:-$(mktemp --tmpdir echo-page.XXXXXX.png)}
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "browser-check: need root to apt-get install $*" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -qq
    # An interrupted dpkg run can leave the system half-configured: repair, retry once.
    timeout 900 apt-get install -y -qq "$@" ||
        { timeout 900 apt-get --fix-broken install -y -qq && timeout 900 apt-get install -y -qq "$@"; }
}

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null && command -v npm >/dev/null || need+=(nodejs npm)
# Fonts, so that the screenshot shows Chinese and emoji (the checks compare strings, not pixels).
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-zenhei)
fc-list 2>/dev/null | grep -q 'Noto Color Emoji' || need+=(fonts-noto-color-emoji)
[ "${#need[@]}" -eq 0 ] || apt_install "${need[@]}"
if [ ! -f "$scratch/node_modules/playwright-core/package.json" ]; then
    mkdir -p "$scratch"
    [ -f "$scratch/package.json" ] || echo '{ "private": true }' >"$scratch/package.json"
    # playwright-core after 1.57 wants node 20; Debian 12's node is 18.
    node_major=$(node -p 'process.versions.node.split(".")[0]')
    version=1
    [ "$node_major" -ge 20 ] || version=1.57.0
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 300 npm install --prefix "$scratch" --no-audit --no-fund \
        --loglevel=error "playwright-core@$version"
fi

timeout 900 cargo build --quiet --release --example echo_server
"$target/release/examples/echo_server" 127.0.0.1:0 >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
for _ in $(seq 100); do
    grep -q '^page at ' "$tmp/server.out" && break
    sleep 0.1
done
page=$(sed -n 's|^page at \(http://[^ ]*\)$|\1|p' "$tmp/server.out")
[ -n "$page" ] || { echo "browser-check: the echo server did not start" >&2; exit 1; }
echo "page at $page"

rc=0
PLAYWRIGHT_DIR=$scratch timeout 120 node scripts/browser-check.mjs "$page" "$screenshot" "$tmp/server.err" || rc=$?
echo "--- server log"
cat "$tmp/server.err"
exit "$rc"
