#!/usr/bin/env bash
# Installs Autobahn|Testsuite (`wstest`) into .autobahn/ (git-ignored), for scripts/autobahn/run.sh.
#
# autobahntestsuite runs on Python 2.7 only, which Debian 12 no longer has. So this fetches Debian 11's
# python2.7 packages with `apt-get download` under a private apt configuration (the machine's own mirrors,
# suite bullseye), unpacks them with `dpkg-deb -x` into .autobahn/py27 (nothing is installed system-wide),
# bootstraps pip from wheels that the machine's Python 3 downloads, and pip-installs autobahntestsuite into
# a private user base. Idempotent: a second run only prints the version. Runs as root on a fresh Debian 12.
#
# Afterwards: .autobahn/bin/wstest (listening on 127.0.0.1 only) and .autobahn/bin/python2.7.
set -euo pipefail
cd "$(dirname "$0")/../.."

WSTEST_VERSION=25.10.1
ROOT=${AUTOBAHN_HOME:-$PWD/.autobahn}
PY=$ROOT/py27
USERBASE=$ROOT/userbase
ARCH=$(dpkg --print-architecture)
TRIPLET=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
DEBS=(python2.7 python2.7-minimal libpython2.7-minimal libpython2.7-stdlib libpython2.7 libpython2.7-dev
    python2.7-dev libssl1.1 libffi7)

say() { printf '[autobahn install] %s\n' "$*" >&2; }
installed() {
    [[ -x $ROOT/bin/python2.7 ]] && "$ROOT/bin/python2.7" -c \
        "import sys, autobahntestsuite as a; sys.exit(a.__version__ != '$WSTEST_VERSION')" 2>/dev/null
}

if installed && [[ -x $ROOT/bin/wstest ]]; then
    say "already installed"
    "$ROOT/bin/wstest" --autobahnversion
    exit 0
fi

missing=()
for tool in python3 apt-get dpkg-deb gcc; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    say "missing ${missing[*]}: installing python3 python3-pip gcc"
    apt-get update -qq
    apt-get install -y -qq python3 python3-pip gcc libc6-dev >/dev/null
fi
mkdir -p "$ROOT/bin"

# --- 1. Debian 11's python2.7, downloaded with a private apt configuration -------------------------------
# Prints "URI<tab>suites<tab>keyring" for every deb source of this machine.
machine_sources() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -e $f ]] || continue
        # deb822 stanzas, separated by blank lines.
        awk 'BEGIN { RS = ""; FS = "\n" }
            {
                uris = ""; suites = ""; key = ""; types = ""; enabled = "yes"
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^Types:/) { sub(/^Types:[ \t]*/, "", $i); types = $i }
                    if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); uris = $i }
                    if ($i ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", $i); suites = $i }
                    if ($i ~ /^Signed-By:/) { sub(/^Signed-By:[ \t]*/, "", $i); key = $i }
                    if ($i ~ /^Enabled:/) { sub(/^Enabled:[ \t]*/, "", $i); enabled = $i }
                }
                if (types !~ /(^| )deb( |$)/ || enabled == "no") next
                n = split(uris, u, " ")
                for (j = 1; j <= n; j++) print u[j] "\t" suites "\t" key
            }' "$f"
    done
    if [[ -f /etc/apt/sources.list ]]; then
        # One-line format: deb [options] URI suite components...
        sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\)[[:space:]]\+\([^[:space:]]\+\).*/\2\t\3\t/p' \
            /etc/apt/sources.list
    fi
}

if [[ ! -x $PY/usr/bin/python2.7 ]]; then
    APT=$ROOT/apt
    mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/parts.d" "$APT/debs"
    : >"$APT/sources.list"
    while IFS=$'\t' read -r uri suites keyring; do
        suite=bullseye
        [[ $suites == *-security* ]] && suite=bullseye-security
        line="deb [arch=$ARCH${keyring:+ signed-by=$keyring}] $uri $suite main"
        grep -qxF "$line" "$APT/sources.list" || echo "$line" >>"$APT/sources.list"
    done < <(machine_sources)
    if [[ ! -s $APT/sources.list ]]; then
        say "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
        exit 1
    fi
    apt_opts=(-o "Dir::Etc::SourceList=$APT/sources.list" -o "Dir::Etc::SourceParts=$APT/parts.d"
        -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o "Dir::State::status=/dev/null"
        -o "Dir::Etc::Preferences=/dev/null" -o "Dir::Etc::PreferencesParts=$APT/parts.d"
        -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
    say "fetching the bullseye package lists"
    apt-get "${apt_opts[@]}" -qq update
    say "downloading ${DEBS[*]}"
    rm -f "$APT"/debs/*.deb
    (cd "$APT/debs" && apt-get "${apt_opts[@]}" -qq download "${DEBS[@]/%/:$ARCH}")
    rm -rf "$PY.tmp"
    mkdir -p "$PY.tmp"
    for deb in "$APT"/debs/*.deb; do
        dpkg-deb -x "$deb" "$PY.tmp"
    done
    rm -rf "$PY"
    mv "$PY.tmp" "$PY"
fi

cat >"$ROOT/bin/python2.7" <<EOF
#!/bin/sh
# Debian 11's python2.7, unpacked by scripts/autobahn/install.sh.
export LD_LIBRARY_PATH="$PY/usr/lib/$TRIPLET:$PY/lib/$TRIPLET\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PYTHONHOME="$PY/usr"
export PYTHONUSERBASE="$USERBASE"
unset PYTHONPATH PYTHONSTARTUP
exec "$PY/usr/bin/python2.7" "\$@"
EOF
chmod +x "$ROOT/bin/python2.7"
"$ROOT/bin/python2.7" -c 'import ssl, zlib, ctypes, sys; print("python " + sys.version.split()[0])' >&2

# --- 2. pip for Python 2.7, from wheels the machine's Python 3 downloads ---------------------------------
WHEELS=$ROOT/wheels
if ! "$ROOT/bin/python2.7" -m pip --version >/dev/null 2>&1; then
    say "bootstrapping pip"
    python3 -m pip download -q --disable-pip-version-check -d "$WHEELS" --only-binary=:all: --python-version 27 \
        --implementation cp --abi cp27mu --platform manylinux1_x86_64 --platform any \
        pip==20.3.4 setuptools==44.1.1 wheel==0.37.1
    "$ROOT/bin/python2.7" "$(ls "$WHEELS"/pip-20.3.4-*.whl)/pip" install -q --user --no-index \
        --find-links "$WHEELS" --no-warn-script-location pip==20.3.4 setuptools==44.1.1 wheel==0.37.1
fi

# --- 3. autobahntestsuite -------------------------------------------------------------------------------
if ! installed; then
    say "installing autobahntestsuite $WSTEST_VERSION"
    # wsaccel and friends compile C extensions against the unpacked headers.
    CFLAGS="-I$PY/usr/include -I$PY/usr/include/python2.7" LDFLAGS="-L$PY/usr/lib/$TRIPLET" \
        "$ROOT/bin/python2.7" -m pip install -q --user --disable-pip-version-check --no-warn-script-location \
        "autobahntestsuite==$WSTEST_VERSION"
fi

# autobahn's listenWS binds every interface (interface ''), so fuzzingserver would too; this launcher makes
# every listening socket default to the loopback interface instead.
cat >"$ROOT/bin/wstest.py" <<'PYTHON'
import sys
from autobahntestsuite import choosereactor  # noqa: F401 -- installs epoll first, as wstest does
from twisted.internet import reactor

_listen_tcp = reactor.listenTCP


def listen_loopback(port, factory, backlog=50, interface=''):
    return _listen_tcp(port, factory, backlog, interface or '127.0.0.1')


reactor.listenTCP = listen_loopback
from autobahntestsuite.wstest import run  # noqa: E402

sys.argv[0] = 'wstest'
sys.exit(run())
PYTHON
cat >"$ROOT/bin/wstest" <<EOF
#!/bin/sh
# Autobahn|Testsuite, installed by scripts/autobahn/install.sh; listens on 127.0.0.1 only.
exec "$ROOT/bin/python2.7" "$ROOT/bin/wstest.py" "\$@"
EOF
chmod +x "$ROOT/bin/wstest"
"$ROOT/bin/wstest" --autobahnversion
