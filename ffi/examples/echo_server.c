/*
 * An echo server in C over the rfc6455 C API: one thread, poll(2),
 * non-blocking sockets.
 *
 *     echo_server [ADDR]      (default 127.0.0.1:9001; port 0 picks one)
 *
 * It speaks WebSocket on any path and sends every text and binary message
 * back, agreeing to the first subprotocol the client offers. On the path
 * /test/close a text message "close CODE REASON" makes it close with that
 * code and reason instead. A plain GET gets 404. Each close is logged on
 * standard error. SIGINT or SIGTERM stops it: it frees every connection and
 * exits 0, so a leak checker sees a clean end.
 *
 * It builds with nothing but the header and the library (C99 and C++):
 *     cc -std=c99 -Wall -Wextra -Werror -Iffi/include ffi/examples/echo_server.c \
 *        target/release/librfc6455.a -lpthread -ldl -lm
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rfc6455.h"

#define MAX_CLIENTS 1024
#define BUF_SIZE (64 * 1024)
/* Reading stops while this much waits to be written: a peer that sends and
 * never reads holds this, plus the message being echoed and the one being
 * read (each at most the message limit), not all it sent. A client that
 * sends everything before it reads anything is held back by this and, if it
 * never reads, dropped after STALL_NS. */
#define HIGH_WATER (1024 * 1024)
/* A peer that takes nothing we write for this long is dropped, open or
 * closed. */
#define STALL_NS (10 * 1000000000ull)
/* The longest poll: a signal that lands just before poll is seen by then. */
#define MAX_WAIT_MS 1000

/* One accepted socket and its connection. */
struct client {
    int fd;
    rfc6455_conn *conn;
    int close_on_request; /* the path was /test/close */
    int input_ended;      /* EOF or a read error was reported */
    uint8_t *out;         /* bytes taken from the engine, not yet written */
    size_t out_start, out_end;
    uint64_t progress;    /* when a write last made progress, or nothing waited */
    int broken;           /* the library refused input: drop it */
};

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_addr(const char *text, struct sockaddr_in *addr) {
    char host[64];
    const char *colon = strrchr(text, ':');
    size_t n;
    if (colon == NULL || (n = (size_t)(colon - text)) >= sizeof host) return -1;
    memcpy(host, text, n);
    host[n] = '\0';
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
}

/* Writes what the engine has queued, as far as the socket takes it.
 * Returns -1 when the socket failed. */
static int flush_out(struct client *c) {
    for (;;) {
        if (c->out_start == c->out_end) {
            size_t n = 0;
            rfc6455_status s = rfc6455_conn_poll_transmit(c->conn, c->out, BUF_SIZE, &n);
            if (s != RFC6455_OK) { /* RFC6455_DONE: all written */
                c->progress = now_ns();
                return 0;
            }
            c->out_start = 0;
            c->out_end = n;
        }
        ssize_t w = write(c->fd, c->out + c->out_start, c->out_end - c->out_start);
        if (w > 0) c->progress = now_ns();
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            rfc6455_conn_handle_transport_error(c->conn, now_ns());
            c->out_start = c->out_end = 0;
            return -1;
        }
        c->out_start += (size_t)w;
    }
}

/* "close CODE REASON" on /test/close: the code and reason to close with. */
static int close_command(const rfc6455_event *ev, unsigned *code, const uint8_t **reason, size_t *reason_len) {
    const char *p = (const char *)ev->data;
    size_t i = 6;
    unsigned value = 0;
    if (ev->len < 7 || memcmp(p, "close ", 6) != 0) return 0;
    while (i < ev->len && p[i] >= '0' && p[i] <= '9' && value < 100000) value = value * 10 + (unsigned)(p[i++] - '0');
    if (i == 6 || value > 65535) return 0;
    if (i < ev->len && p[i] == ' ') i++;
    *code = value;
    *reason = ev->data + i;
    *reason_len = ev->len - i;
    return 1;
}

/* Answers the upgrade request: the first subprotocol offered, or 404 for
 * plain HTTP. */
static void answer(struct client *c, const rfc6455_request *req, uint64_t now) {
    bool upgrade = false;
    const uint8_t *path, *proto;
    size_t path_len, proto_len;
    rfc6455_request_is_upgrade(req, &upgrade);
    if (!upgrade) {
        static const char body[] = "WebSocket only\n";
        rfc6455_conn_reject(c->conn, now, 404, NULL, 0, (const uint8_t *)body, sizeof body - 1);
        return;
    }
    if (rfc6455_request_path(req, &path, &path_len) == RFC6455_OK)
        c->close_on_request = path_len == 11 && memcmp(path, "/test/close", 11) == 0;
    /* The request's own string may be passed back: it lives until the answer. */
    if (rfc6455_request_protocol(req, 0, &proto, &proto_len) != RFC6455_OK) {
        proto = NULL;
        proto_len = 0;
    }
    rfc6455_conn_accept(c->conn, now, proto, proto_len, NULL, 0);
}

/* Takes every event the engine has and acts on it. */
static void drain_events(struct client *c) {
    rfc6455_event ev;
    while (rfc6455_conn_poll_event(c->conn, &ev) == RFC6455_OK) {
        uint64_t now = now_ns();
        switch (ev.kind) {
        case RFC6455_EVENT_REQUEST:
            answer(c, ev.request, now);
            break;
        case RFC6455_EVENT_TEXT: {
            unsigned code;
            const uint8_t *reason;
            size_t reason_len;
            if (c->close_on_request && close_command(&ev, &code, &reason, &reason_len)) {
                rfc6455_status s = rfc6455_conn_close(c->conn, now, (uint16_t)code, reason, reason_len);
                if (s != RFC6455_OK) {
                    const char *why = rfc6455_status_str(s);
                    char reply[128];
                    int n = snprintf(reply, sizeof reply, "refused: %s", why);
                    rfc6455_conn_send_text(c->conn, (const uint8_t *)reply, (size_t)n);
                }
            } else {
                rfc6455_conn_send_text(c->conn, ev.data, ev.len);
            }
            break;
        }
        case RFC6455_EVENT_BINARY:
            rfc6455_conn_send_binary(c->conn, ev.data, ev.len);
            break;
        case RFC6455_EVENT_ERROR:
            fprintf(stderr, "fd %d: %s (%.*s)\n", c->fd, rfc6455_status_str(ev.error), (int)ev.len,
                    (const char *)ev.data);
            break;
        case RFC6455_EVENT_CLOSED:
            fprintf(stderr, "fd %d: closed, code %u, reason \"%.*s\", clean %s\n", c->fd, (unsigned)ev.code,
                    (int)ev.len, (const char *)ev.data, ev.was_clean ? "true" : "false");
            break;
        default:
            break;
        }
    }
}

/* One read from the socket, handed to the engine. One per poll round, so
 * that what the echoes queue is written before more is read. */
static void read_input(struct client *c) {
    static uint8_t buf[BUF_SIZE];
    for (;;) {
        ssize_t r = read(c->fd, buf, sizeof buf);
        uint64_t now = now_ns();
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            rfc6455_conn_handle_transport_error(c->conn, now);
            c->input_ended = 1;
            return;
        }
        if (r == 0) {
            rfc6455_conn_handle_eof(c->conn, now);
            c->input_ended = 1;
            return;
        }
        size_t off = 0;
        while (off < (size_t)r) {
            size_t taken = 0;
            if (rfc6455_conn_handle_bytes(c->conn, now, buf + off, (size_t)r - off, &taken) != RFC6455_OK) {
                c->broken = 1; /* RFC6455_PANIC: nothing more can be done with it */
                return;
            }
            off += taken;
            drain_events(c); /* the engine takes the rest once its events are taken */
        }
        return;
    }
}

static void drop_client(struct client *c) {
    close(c->fd);
    rfc6455_conn_free(c->conn);
    free(c->out);
    c->fd = -1;
    c->conn = NULL;
    c->out = NULL;
}

/* Accepts what waits; 0, or -1 when out of descriptors (the caller pauses
 * the listener rather than spin on it). */
static int accept_clients(int listener, struct client *clients, size_t *count) {
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        int one = 1;
        if (fd < 0) return errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM ? -1 : 0;
        if (*count == MAX_CLIENTS) {
            close(fd);
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct client *c = &clients[*count];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->progress = now_ns();
        c->out = (uint8_t *)malloc(BUF_SIZE);
        if (c->out == NULL || rfc6455_conn_server(NULL, now_ns(), &c->conn) != RFC6455_OK) {
            free(c->out);
            close(fd);
            continue;
        }
        (*count)++;
    }
}

int main(int argc, char **argv) {
    const char *addr_text = argc > 1 ? argv[1] : "127.0.0.1:9001";
    struct sockaddr_in addr;
    socklen_t addr_len = sizeof addr;
    static struct client clients[MAX_CLIENTS];
    static struct pollfd fds[MAX_CLIENTS + 1];
    size_t count = 0, i;
    int listener, one = 1;
    uint64_t listen_paused_until = 0;
    struct sigaction sa;

    if (argc > 2 || parse_addr(addr_text, &addr) != 0) {
        fprintf(stderr, "usage: echo_server [IPV4:PORT]\n");
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    listener = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 128) != 0) {
        perror("echo_server: listen");
        return 1;
    }
    fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
    getsockname(listener, (struct sockaddr *)&addr, &addr_len);
    printf("listening on ws://127.0.0.1:%u/ (rfc6455 %s)\n", (unsigned)ntohs(addr.sin_port), rfc6455_version());
    fflush(stdout);

    while (!stopping) {
        uint64_t now = now_ns(), wake = UINT64_MAX;
        int timeout_ms;
        fds[0].fd = listener;
        fds[0].events = now < listen_paused_until ? 0 : POLLIN;
        fds[0].revents = 0;
        if (now < listen_paused_until) wake = listen_paused_until;
        for (i = 0; i < count; i++) {
            struct client *c = &clients[i];
            uint64_t at;
            size_t queued = 0, pending;
            rfc6455_conn_buffered_amount(c->conn, &queued);
            pending = c->out_end - c->out_start + queued;
            fds[i + 1].fd = c->fd;
            fds[i + 1].events = (short)((c->input_ended || pending > HIGH_WATER ? 0 : POLLIN) | (pending ? POLLOUT : 0));
            fds[i + 1].revents = 0;
            if (rfc6455_conn_timeout(c->conn, &at) == RFC6455_OK && at < wake) wake = at;
            if (pending && c->progress + STALL_NS < wake) wake = c->progress + STALL_NS;
        }
        if (wake <= now) timeout_ms = 0; /* overdue: no wait */
        else if (wake - now > (uint64_t)MAX_WAIT_MS * 1000000u) timeout_ms = MAX_WAIT_MS;
        else timeout_ms = (int)((wake - now) / 1000000u + 1);
        if (poll(fds, (nfds_t)(count + 1), timeout_ms) < 0 && errno != EINTR) {
            perror("echo_server: poll");
            break;
        }
        now = now_ns();
        for (i = 0; i < count; i++) {
            struct client *c = &clients[i];
            uint64_t at;
            size_t queued = 0;
            if (!c->input_ended && (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) read_input(c);
            if (rfc6455_conn_timeout(c->conn, &at) == RFC6455_OK && at <= now) {
                rfc6455_conn_handle_timeout(c->conn, now);
                drain_events(c);
            }
            flush_out(c);
            drain_events(c);
            bool done = false;
            /* A status other than OK (RFC6455_PANIC) means the connection is lost. */
            if (rfc6455_conn_should_close_transport(c->conn, &done) != RFC6455_OK) c->broken = 1;
            rfc6455_conn_buffered_amount(c->conn, &queued);
            if (c->broken || (done && c->out_start == c->out_end)) {
                drop_client(c);
            } else if ((queued || c->out_start < c->out_end) && now > c->progress + STALL_NS) {
                fprintf(stderr, "fd %d: the peer took nothing for %llu s: dropped\n", c->fd,
                        (unsigned long long)(STALL_NS / 1000000000u));
                rfc6455_conn_terminate(c->conn, now);
                drain_events(c);
                drop_client(c);
            }
        }
        /* Compact: move live clients down over dropped ones. */
        size_t live = 0;
        for (i = 0; i < count; i++)
            if (clients[i].conn != NULL) clients[live++] = clients[i];
        count = live;
        if ((fds[0].revents & POLLIN) && accept_clients(listener, clients, &count) < 0)
            listen_paused_until = now + 100000000u; /* out of descriptors: try again in 100 ms */
    }
    for (i = 0; i < count; i++) drop_client(&clients[i]);
    close(listener);
    fprintf(stderr, "echo_server: stopped\n");
    return 0;
}
