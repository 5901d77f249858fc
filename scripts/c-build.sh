#!/usr/bin/env bash
# Builds the C ABI (ffi/, release) and the C programs over it, into target/c/:
# echo_server and client (cc -std=c99 -Wall -Wextra -Werror), their
# AddressSanitizer + UndefinedBehaviorSanitizer builds (*_asan), the echo
# server compiled as C++ (echo_server_cxx, a check of the header), and the
# C tests of ffi/tests/. Each links the static library and nothing else of
# ours: the header and librfc6455.a.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -p rfc6455-ffi
OUT=$TARGET/c
mkdir -p "$OUT"
LIB=$TARGET/release/librfc6455.a
LIBS=(-lpthread -ldl -lm)
CFLAGS=(-std=c99 -O2 -Wall -Wextra -Werror -Iffi/include)
SAN=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
for prog in echo_server client; do
    cc "${CFLAGS[@]}" "ffi/examples/$prog.c" "$LIB" "${LIBS[@]}" -o "$OUT/$prog"
    cc "${CFLAGS[@]}" "${SAN[@]}" "ffi/examples/$prog.c" "$LIB" "${LIBS[@]}" -o "$OUT/${prog}_asan"
done
cc "${CFLAGS[@]}" -c ffi/examples/minimal.c -o "$OUT/minimal.o"
c++ -x c++ -std=c++11 -O2 -Wall -Wextra -Werror -Iffi/include ffi/examples/echo_server.c -x none "$LIB" "${LIBS[@]}" \
    -o "$OUT/echo_server_cxx"
for test in ffi/tests/*.c; do
    name=$(basename "$test" .c)
    cc "${CFLAGS[@]}" "${SAN[@]}" "$test" "$LIB" "${LIBS[@]}" -o "$OUT/$name"
done
echo "built into $OUT: $(cd "$OUT" && ls | tr '\n' ' ')" >&2
