/*
 * A client in C over the rfc6455 C API: blocking sockets and poll(2) for
 * the engine's timers.
 *
 *     client URL                      echo checks against an echo server
 *     client --autobahn URL [AGENT]   every case of an Autobahn fuzzingserver
 *
 * The first opens URL (offering the subprotocol "chat"), sends text, binary
 * of 1 MiB, a fragmented message and a ping, checks what comes back, then
 * closes with 4000 and a UTF-8 reason and checks the server's answer. It
 * prints one "ok: ..." or "FAIL: ..." line per check and exits 1 if any
 * failed. The second asks /getCaseCount, runs /runCase?case=N&agent=AGENT
 * for each case, echoing every message, then /updateReports.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rfc6455.h"

#define BUF_SIZE (64 * 1024)

struct ws {
    int fd;
    rfc6455_conn *conn;
    uint8_t in[BUF_SIZE];
    size_t in_start, in_end; /* read, not yet taken by the engine */
    uint8_t out[BUF_SIZE];
    int eof;
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Opens TCP to the request's host and port. */
static int dial(const rfc6455_client_request *req) {
    const uint8_t *host;
    size_t host_len;
    uint16_t port;
    bool secure;
    char name[256], service[8];
    struct addrinfo hints, *res, *ai;
    int fd = -1, one = 1;
    if (rfc6455_client_request_host(req, &host, &host_len) != RFC6455_OK || host_len >= sizeof name) return -1;
    if (rfc6455_client_request_port(req, &port, &secure) != RFC6455_OK || secure) return -1;
    memcpy(name, host, host_len);
    name[host_len] = '\0';
    snprintf(service, sizeof service, "%u", (unsigned)port);
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(name, service, &hints, &res) != 0) return -1;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Connects to url; the connection opens as events are taken. */
static int ws_open(struct ws *ws, const char *url, const char *protocol) {
    rfc6455_client_request *req = NULL;
    rfc6455_config *config = NULL;
    rfc6455_status s = rfc6455_client_request_new(url, &req);
    if (s != RFC6455_OK) {
        fprintf(stderr, "%s: %s\n", url, rfc6455_status_str(s));
        return -1;
    }
    if (protocol != NULL) rfc6455_client_request_add_protocol(req, protocol);
    memset(ws, 0, sizeof *ws);
    ws->fd = dial(req);
    if (ws->fd < 0) {
        fprintf(stderr, "%s: cannot connect\n", url);
        rfc6455_client_request_free(req);
        return -1;
    }
    /* Autobahn's largest messages are 16 MiB; its closing cases want a
     * short close timeout. */
    rfc6455_config_new(&config);
    rfc6455_config_set_max_message_size(config, 32u << 20);
    rfc6455_config_set_close_timeout(config, 3000000000u);
    s = rfc6455_conn_client(req, config, now_ns(), &ws->conn);
    rfc6455_config_free(config);
    rfc6455_client_request_free(req);
    if (s != RFC6455_OK) {
        fprintf(stderr, "%s: %s\n", url, rfc6455_status_str(s));
        close(ws->fd);
        return -1;
    }
    return 0;
}

static void ws_close(struct ws *ws) {
    close(ws->fd);
    rfc6455_conn_free(ws->conn);
}

/* Writes everything the engine has queued. */
static void ws_flush(struct ws *ws) {
    size_t n;
    while (rfc6455_conn_poll_transmit(ws->conn, ws->out, sizeof ws->out, &n) == RFC6455_OK) {
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(ws->fd, ws->out + off, n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                rfc6455_conn_handle_transport_error(ws->conn, now_ns());
                return;
            }
            off += (size_t)w;
        }
    }
}

/* The next event, reading and running timers as needed: 1 with one in *ev,
 * 0 once the connection is over and the socket may be closed. */
static int ws_next(struct ws *ws, rfc6455_event *ev) {
    for (;;) {
        uint64_t at, now;
        bool over = false;
        int timeout_ms = -1;
        struct pollfd pfd;
        if (rfc6455_conn_poll_event(ws->conn, ev) == RFC6455_OK) return 1;
        /* After poll_event: taking events can queue bytes (the reply to a
         * close frame that arrived behind the 101), and they must go out
         * before this waits for the peer. */
        ws_flush(ws);
        now = now_ns();
        if (ws->in_start < ws->in_end) {
            size_t taken = 0;
            if (rfc6455_conn_handle_bytes(ws->conn, now, ws->in + ws->in_start, ws->in_end - ws->in_start, &taken) !=
                RFC6455_OK)
                return 0; /* RFC6455_PANIC: give up on it */
            ws->in_start += taken;
            continue;
        }
        rfc6455_conn_should_close_transport(ws->conn, &over);
        if (over) return 0;
        if (rfc6455_conn_timeout(ws->conn, &at) == RFC6455_OK) {
            if (at <= now) {
                rfc6455_conn_handle_timeout(ws->conn, now);
                continue;
            }
            timeout_ms = at - now > 3600000000000ull ? 3600000 : (int)((at - now) / 1000000u + 1);
        } else if (ws->eof) {
            return 0; /* closed, nothing more will come */
        }
        pfd.fd = ws->fd;
        pfd.events = ws->eof ? 0 : POLLIN;
        pfd.revents = 0;
        int ready = poll(&pfd, 1, timeout_ms);
        if (ready < 0 && errno != EINTR) {
            rfc6455_conn_handle_transport_error(ws->conn, now_ns());
            ws->eof = 1;
        }
        if (ready <= 0) continue;
        ssize_t r = read(ws->fd, ws->in, sizeof ws->in);
        now = now_ns();
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            if (r == 0) rfc6455_conn_handle_eof(ws->conn, now);
            else rfc6455_conn_handle_transport_error(ws->conn, now);
            ws->eof = 1;
            continue;
        }
        ws->in_start = 0;
        ws->in_end = (size_t)r;
    }
}

/* The next data message, answering nothing else: 1, or 0 at the end. */
static int ws_next_message(struct ws *ws, rfc6455_event *ev) {
    while (ws_next(ws, ev))
        if (ev->kind == RFC6455_EVENT_TEXT || ev->kind == RFC6455_EVENT_BINARY || ev->kind == RFC6455_EVENT_PONG ||
            ev->kind == RFC6455_EVENT_CLOSED)
            return 1;
    return 0;
}

/* ----- Autobahn ----- */

/* One session: echo every message until the connection ends. For
 * /getCaseCount, the first text message is the count. */
static long autobahn_session(const char *url, int echo) {
    struct ws *ws = (struct ws *)malloc(sizeof *ws);
    rfc6455_event ev;
    long count = -1;
    if (ws == NULL || ws_open(ws, url, NULL) != 0) {
        free(ws);
        return -1;
    }
    while (ws_next(ws, &ev)) {
        if (ev.kind == RFC6455_EVENT_TEXT && !echo && count < 0) {
            char digits[32];
            size_t n = ev.len < sizeof digits - 1 ? ev.len : sizeof digits - 1;
            memcpy(digits, ev.data, n);
            digits[n] = '\0';
            count = strtol(digits, NULL, 10);
        } else if (echo && ev.kind == RFC6455_EVENT_TEXT) {
            rfc6455_conn_send_text(ws->conn, ev.data, ev.len);
        } else if (echo && ev.kind == RFC6455_EVENT_BINARY) {
            rfc6455_conn_send_binary(ws->conn, ev.data, ev.len);
        }
    }
    ws_close(ws);
    free(ws);
    return count;
}

static int autobahn(const char *base, const char *agent) {
    char url[512];
    long count, i;
    snprintf(url, sizeof url, "%s/getCaseCount", base);
    count = autobahn_session(url, 0);
    if (count <= 0) {
        fprintf(stderr, "no case count from %s\n", base);
        return 1;
    }
    for (i = 1; i <= count; i++) {
        snprintf(url, sizeof url, "%s/runCase?case=%ld&agent=%s", base, i, agent);
        printf("case %ld/%ld\n", i, count);
        fflush(stdout);
        autobahn_session(url, 1);
    }
    snprintf(url, sizeof url, "%s/updateReports?agent=%s", base, agent);
    autobahn_session(url, 0);
    printf("ran %ld cases\n", count);
    return 0;
}

/* ----- echo checks ----- */

static int failed = 0;

static void check(int ok, const char *what) {
    printf("%s: %s\n", ok ? "ok" : "FAIL", what);
    if (!ok) failed++;
}

static int same(const rfc6455_event *ev, rfc6455_kind kind, const uint8_t *data, size_t len) {
    return ev->kind == kind && ev->len == len && (len == 0 || memcmp(ev->data, data, len) == 0);
}

static int echo_checks(const char *url) {
    static const char text[] = "h\xc3\xa9llo, \xe2\x82\xac and \xf0\x9f\x98\x80";
    static const char reason[] = "au revoir, \xc3\xa0 bient\xc3\xb4t";
    struct ws *ws = (struct ws *)malloc(sizeof *ws);
    uint8_t *big = (uint8_t *)malloc(1u << 20);
    rfc6455_event ev;
    rfc6455_close_event close_event;
    const uint8_t *proto;
    size_t proto_len, i;
    uint32_t state = 99;
    if (ws == NULL || big == NULL || ws_open(ws, url, "chat") != 0) {
        free(ws);
        free(big);
        return 2;
    }
    for (i = 0; i < (1u << 20); i++) big[i] = (uint8_t)(i % 251);

    check(ws_next(ws, &ev) && ev.kind == RFC6455_EVENT_OPEN, "opens");
    rfc6455_conn_ready_state(ws->conn, &state);
    check(state == RFC6455_OPEN, "readyState is OPEN");
    rfc6455_conn_protocol(ws->conn, &proto, &proto_len);
    check(proto_len == 4 && memcmp(proto, "chat", 4) == 0, "the server agreed to the subprotocol chat");

    rfc6455_conn_send_text(ws->conn, (const uint8_t *)text, sizeof text - 1);
    check(ws_next_message(ws, &ev) && same(&ev, RFC6455_EVENT_TEXT, (const uint8_t *)text, sizeof text - 1),
          "text comes back");
    rfc6455_conn_send_binary(ws->conn, big, 1u << 20);
    check(ws_next_message(ws, &ev) && same(&ev, RFC6455_EVENT_BINARY, big, 1u << 20), "1 MiB of binary comes back");
    rfc6455_conn_send_fragment(ws->conn, RFC6455_EVENT_BINARY, big, 1000, false);
    rfc6455_conn_send_ping(ws->conn, (const uint8_t *)"between", 7);
    rfc6455_conn_send_fragment(ws->conn, RFC6455_EVENT_BINARY, big + 1000, 1000, true);
    check(ws_next_message(ws, &ev) && same(&ev, RFC6455_EVENT_PONG, (const uint8_t *)"between", 7),
          "a ping between fragments gets its pong");
    check(ws_next_message(ws, &ev) && same(&ev, RFC6455_EVENT_BINARY, big, 2000), "a fragmented message comes back whole");
    check(rfc6455_conn_send_text(ws->conn, (const uint8_t *)"\xff", 1) == RFC6455_ERR_INVALID_UTF8,
          "text that is not UTF-8 is refused");
    check(rfc6455_conn_close(ws->conn, now_ns(), 1005, (const uint8_t *)"x", 1) == RFC6455_ERR_REASON_WITHOUT_CODE,
          "a reason without a code is refused");
    check(rfc6455_conn_close(ws->conn, now_ns(), 1006, NULL, 0) == RFC6455_ERR_INVALID_CLOSE_CODE,
          "1006 may not be sent");

    rfc6455_conn_close(ws->conn, now_ns(), 4000, (const uint8_t *)reason, sizeof reason - 1);
    rfc6455_conn_ready_state(ws->conn, &state);
    check(state == RFC6455_CLOSING, "readyState is CLOSING");
    check(ws_next_message(ws, &ev) && ev.kind == RFC6455_EVENT_CLOSED && ev.code == 4000 && ev.was_clean &&
              same(&ev, RFC6455_EVENT_CLOSED, (const uint8_t *)reason, sizeof reason - 1),
          "the server answers 4000 and the reason, cleanly");
    check(rfc6455_conn_close_event(ws->conn, &close_event) == RFC6455_OK && close_event.code == 4000 &&
              close_event.was_clean && close_event.reason_len == sizeof reason - 1,
          "the close event stays readable");
    check(!ws_next(ws, &ev), "the connection ends");
    rfc6455_conn_ready_state(ws->conn, &state);
    check(state == RFC6455_CLOSED, "readyState is CLOSED");
    ws_close(ws);
    free(ws);
    free(big);
    return failed ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--autobahn") == 0)
        return autobahn(argv[2], argc > 3 ? argv[3] : "rfc6455-c");
    if (argc == 2) return echo_checks(argv[1]);
    fprintf(stderr, "usage: client URL | client --autobahn URL [AGENT]\n");
    return 2;
}
