/* The smallest whole server loop (docs/c-api.md shows this file): one blocking socket, echo. */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include "rfc6455.h"

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void on_events(rfc6455_conn *c) {
    rfc6455_event ev;
    while (rfc6455_conn_poll_event(c, &ev) == RFC6455_OK) {
        if (ev.kind == RFC6455_EVENT_REQUEST) rfc6455_conn_accept(c, now_ns(), NULL, 0, NULL, 0);
        if (ev.kind == RFC6455_EVENT_TEXT) rfc6455_conn_send_text(c, ev.data, ev.len); /* ev.data is lent: */
        if (ev.kind == RFC6455_EVENT_BINARY) rfc6455_conn_send_binary(c, ev.data, ev.len); /* no copy */
    }
}

void serve(int fd) {
    rfc6455_conn *c;
    uint8_t buf[65536];
    size_t n, off, taken;
    uint64_t at, now;
    bool done = false;
    if (rfc6455_conn_server(NULL, now_ns(), &c) != RFC6455_OK) return;
    while (!done) {
        on_events(c); /* taking events may queue bytes: write after it */
        while (rfc6455_conn_poll_transmit(c, buf, sizeof buf, &n) == RFC6455_OK)
            for (off = 0; off < n;) {
                ssize_t w = write(fd, buf + off, n - off);
                if (w <= 0) { rfc6455_conn_handle_transport_error(c, now_ns()); break; }
                off += (size_t)w;
            }
        if (rfc6455_conn_should_close_transport(c, &done) != RFC6455_OK || done) break;
        int wait = -1; /* until the engine's next deadline, on our clock */
        now = now_ns();
        if (rfc6455_conn_timeout(c, &at) == RFC6455_OK) wait = at <= now ? 0 : at - now > 3600e9 ? 3600000 : (int)((at - now) / 1000000 + 1);
        struct pollfd p = {fd, POLLIN, 0};
        int ready = poll(&p, 1, wait);
        now = now_ns();
        if (rfc6455_conn_timeout(c, &at) == RFC6455_OK && at <= now) rfc6455_conn_handle_timeout(c, now);
        if (ready <= 0) continue; /* a timeout, or EINTR */
        ssize_t r = read(fd, buf, sizeof buf);
        if (r == 0) rfc6455_conn_handle_eof(c, now);
        if (r < 0) rfc6455_conn_handle_transport_error(c, now);
        for (off = 0; r > 0 && off < (size_t)r; off += taken) { /* it takes the rest once events are taken */
            if (rfc6455_conn_handle_bytes(c, now, buf + off, (size_t)r - off, &taken) != RFC6455_OK) { done = true; break; }
            on_events(c);
        }
    }
    rfc6455_conn_free(c);
    close(fd);
}
