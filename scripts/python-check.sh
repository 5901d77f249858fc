#!/usr/bin/env bash
# The Python package (python/) and its pytest suite over real sockets on
# 127.0.0.1: the engine through the C API (cffi, reading the committed header)
# against Python's websockets in both roles, random frame streams fed a byte at
# a time, the panic boundary, and memory over 10,000 connections. Installs what
# it needs with pip.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
python3 -m pip install -q --disable-pip-version-check 'cffi>=1.15' 'websockets>=13,<18' 'pytest>=7' 2>&1 \
    | grep -v 'Running pip as the .root. user' || true
cargo build -q --release -p rfc6455-ffi
cd python
RFC6455_LIB=$PWD/../$TARGET/release/librfc6455.so python3 -m pytest -q -s -p no:cacheprovider "$@"
