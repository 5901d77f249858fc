#!/usr/bin/env bash
# Regenerates ffi/include/rfc6455.h from ffi/src with cbindgen at the pinned
# version. With --check, regenerates into a temporary file and fails if it
# differs from the committed header (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
CBINDGEN_VERSION=0.29.2
if [[ "$(cbindgen --version 2>/dev/null)" != "cbindgen $CBINDGEN_VERSION" ]]; then
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked >&2
fi
out=ffi/include/rfc6455.h
if [[ "${1:-}" == "--check" ]]; then
    out=$(mktemp)
    trap 'rm -f "$out"' EXIT
fi
(cd ffi && cbindgen --quiet --config cbindgen.toml --crate rfc6455-ffi --output "$([[ $out = /* ]] && echo "$out" || echo "../$out")" .)
if [[ "${1:-}" == "--check" ]]; then
    if ! diff -u ffi/include/rfc6455.h "$out"; then
        echo "ffi/include/rfc6455.h is not what cbindgen $CBINDGEN_VERSION makes of ffi/src: run scripts/c-header.sh" >&2
        exit 1
    fi
    echo "ffi/include/rfc6455.h matches ffi/src" >&2
fi
