#!/usr/bin/env bash
# Installs the C library into PREFIX (default /usr/local): the header in
# include/, librfc6455.so and librfc6455.a in lib/, and lib/pkgconfig/rfc6455.pc,
# so that `pkg-config --cflags --libs rfc6455` works. Builds it first
# (release).
#
#   bash ffi/install.sh [PREFIX]
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:-/usr/local}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p rfc6455-ffi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' ffi/Cargo.toml | head -1)
mkdir -p "$PREFIX/include" "$PREFIX/lib/pkgconfig"
cp ffi/include/rfc6455.h "$PREFIX/include/"
cp "$TARGET/release/librfc6455.so" "$TARGET/release/librfc6455.a" "$PREFIX/lib/"
sed -e "s|@PREFIX@|$PREFIX|" -e "s|@VERSION@|$version|" ffi/rfc6455.pc.in >"$PREFIX/lib/pkgconfig/rfc6455.pc"
echo "installed rfc6455 $version into $PREFIX"
