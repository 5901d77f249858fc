/*
 * Decoding masked frames as a server through the C API, against wslay on the
 * same bytes in the same process. scripts/c-bench.sh runs it beside the Rust
 * side (benches/abi_rust.rs), which reads the same input files, and prints
 * the ratios.
 *
 *     decode_bench DIR     writes DIR/small.bin and DIR/large.bin, then times
 *
 * Inputs: small.bin is 100,000 binary frames of 16 B, masked (22 B each),
 * read in 4 KiB pieces; large.bin is 16 binary frames of 1 MiB, masked, read
 * in 64 KiB pieces. The driver, for both libraries: hand over one piece, take
 * every message, count messages and bytes. Ours: rfc6455_conn_handle_bytes,
 * then rfc6455_conn_poll_event until RFC6455_DONE (the engine lends each
 * payload, no copy). wslay: wslay_event_recv with a recv callback that copies
 * from the piece, on_msg_recv counting (wslay copies each message into a
 * buffer it allocates). Each figure is the fastest of 41 runs over the whole
 * input, in ns per frame (small) and GB/s (large); the counts are checked
 * over all the runs.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wslay/wslay.h>

#include "rfc6455.h"

#define SMALL_FRAMES 100000
#define SMALL_LEN 16
#define SMALL_READ 4096
#define LARGE_FRAMES 16
#define LARGE_LEN (1u << 20)
#define LARGE_READ (64u * 1024)
#define RUNS 41

struct input {
    uint8_t *bytes;
    size_t len, read_size, frames, payload;
};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* `count` masked binary frames of `len` bytes; keys and payload from a fixed
 * pattern, so every run and both sides see the same bytes. */
static struct input make_input(size_t count, size_t len, size_t read_size) {
    size_t head = len < 126 ? 2 : len < 65536 ? 4 : 10, each = head + 4 + len, i, j;
    struct input in;
    in.len = count * each;
    in.bytes = (uint8_t *)malloc(in.len);
    in.read_size = read_size;
    in.frames = count;
    in.payload = count * len;
    for (i = 0; i < count; i++) {
        uint8_t *f = in.bytes + i * each, key[4];
        f[0] = 0x82;
        if (head == 2) {
            f[1] = (uint8_t)(0x80 | len);
        } else if (head == 4) {
            f[1] = 0x80 | 126;
            f[2] = (uint8_t)(len >> 8);
            f[3] = (uint8_t)len;
        } else {
            f[1] = 0x80 | 127;
            for (j = 0; j < 8; j++) f[2 + j] = (uint8_t)((uint64_t)len >> (56 - 8 * j));
        }
        for (j = 0; j < 4; j++) key[j] = (uint8_t)(i * 7 + j * 13 + 1);
        memcpy(f + head, key, 4);
        for (j = 0; j < len; j++) f[head + 4 + j] = (uint8_t)((i + j * 131 + j / 7) ^ key[j % 4]);
    }
    return in;
}

static void write_file(const char *dir, const char *name, const struct input *in) {
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(in->bytes, 1, in->len, f) != in->len) {
        perror(path);
        exit(2);
    }
    fclose(f);
}

/* ----- ours, through the C API ----- */

static size_t ours_messages, ours_bytes;

static void ours_run(rfc6455_conn *conn, const struct input *in) {
    size_t off, taken, n;
    rfc6455_event ev;
    for (off = 0; off < in->len; off += n) {
        size_t piece = 0;
        n = in->len - off < in->read_size ? in->len - off : in->read_size;
        while (piece < n) {
            if (rfc6455_conn_handle_bytes(conn, 0, in->bytes + off + piece, n - piece, &taken) != RFC6455_OK) {
                fprintf(stderr, "rfc6455_conn_handle_bytes failed\n");
                exit(1);
            }
            piece += taken;
            while (rfc6455_conn_poll_event(conn, &ev) == RFC6455_OK) {
                ours_messages++;
                ours_bytes += ev.len;
            }
        }
    }
}

/* ----- wslay ----- */

struct wslay_state {
    const uint8_t *piece;
    size_t left;
    size_t messages, bytes;
};

static ssize_t wslay_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user) {
    struct wslay_state *s = (struct wslay_state *)user;
    size_t n = len < s->left ? len : s->left;
    (void)flags;
    if (n == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    memcpy(buf, s->piece, n);
    s->piece += n;
    s->left -= n;
    return (ssize_t)n;
}

static ssize_t wslay_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user) {
    (void)ctx, (void)data, (void)flags, (void)user;
    return (ssize_t)len;
}

static void wslay_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg, void *user) {
    struct wslay_state *s = (struct wslay_state *)user;
    (void)ctx;
    s->messages++;
    s->bytes += arg->msg_length;
}

static void wslay_run(wslay_event_context_ptr ctx, struct wslay_state *s, const struct input *in) {
    size_t off, n;
    for (off = 0; off < in->len; off += n) {
        n = in->len - off < in->read_size ? in->len - off : in->read_size;
        s->piece = in->bytes + off;
        s->left = n;
        if (wslay_event_recv(ctx) != 0) {
            fprintf(stderr, "wslay_event_recv failed\n");
            exit(1);
        }
    }
}

/* ----- timing ----- */

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The fastest of RUNS runs of `body`, in ns: on a shared machine the
 * slower runs measure the neighbours. */
#define FASTEST(result, body)                                   \
    do {                                                        \
        uint64_t times[RUNS];                                   \
        int r;                                                  \
        for (r = 0; r < RUNS; r++) {                            \
            uint64_t t0 = now_ns();                             \
            body;                                               \
            times[r] = now_ns() - t0;                           \
        }                                                       \
        qsort(times, RUNS, sizeof times[0], compare);           \
        result = times[0];                                      \
    } while (0)

static void bench(const char *name, const struct input *in) {
    rfc6455_conn *conn = NULL;
    rfc6455_config *config = NULL;
    wslay_event_context_ptr ctx;
    struct wslay_state state;
    struct wslay_event_callbacks callbacks;
    uint64_t ours_ns, wslay_ns;
    double per;

    rfc6455_config_new(&config);
    rfc6455_config_set_max_message_size(config, 64u << 20);
    rfc6455_conn_open(RFC6455_ROLE_SERVER, NULL, config, 0, &conn);
    rfc6455_config_free(config);
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.recv_callback = wslay_recv;
    callbacks.send_callback = wslay_send;
    callbacks.on_msg_recv_callback = wslay_message;
    memset(&state, 0, sizeof state);
    wslay_event_context_server_init(&ctx, &callbacks, &state);
    wslay_event_config_set_max_recv_msg_length(ctx, 64u << 20);

    /* Each decodes the input once right before it is timed, ours first and
     * wholly before wslay runs (so that neither runs on a heap the other
     * has shaped). */
    ours_messages = ours_bytes = 0;
    ours_run(conn, in);
    FASTEST(ours_ns, ours_run(conn, in));
    wslay_run(ctx, &state, in);
    FASTEST(wslay_ns, wslay_run(ctx, &state, in));
    ours_messages /= RUNS + 1;
    ours_bytes /= RUNS + 1;
    state.messages /= RUNS + 1;
    state.bytes /= RUNS + 1;
    if (ours_messages != in->frames || ours_bytes != in->payload || state.messages != in->frames ||
        state.bytes != in->payload) {
        fprintf(stderr, "%s: ours %zu messages %zu bytes, wslay %zu/%zu, want %zu/%zu\n", name, ours_messages,
                ours_bytes, state.messages, state.bytes, in->frames, in->payload);
        exit(1);
    }
    per = (double)in->frames;
    printf("%s rfc6455-c %.2f ns/frame %.3f GB/s\n", name, ours_ns / per, (double)in->payload / ours_ns);
    printf("%s wslay %.2f ns/frame %.3f GB/s\n", name, wslay_ns / per, (double)in->payload / wslay_ns);
    printf("%s ratio rfc6455-c/wslay %.2fx\n", name, (double)wslay_ns / ours_ns);
    rfc6455_conn_free(conn);
    wslay_event_context_free(ctx);
}

int main(int argc, char **argv) {
    struct input small = make_input(SMALL_FRAMES, SMALL_LEN, SMALL_READ);
    struct input large = make_input(LARGE_FRAMES, LARGE_LEN, LARGE_READ);
    if (argc != 2) {
        fprintf(stderr, "usage: decode_bench DIR\n");
        return 2;
    }
    write_file(argv[1], "small.bin", &small);
    write_file(argv[1], "large.bin", &large);
    bench("small", &small);
    bench("large", &large);
    free(small.bytes);
    free(large.bytes);
    return 0;
}
