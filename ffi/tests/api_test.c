/*
 * Tests of the C API from C, in memory (a client and a server handing each
 * other their bytes): versions, status strings, NULL and bad arguments,
 * the handshake, messages, fragments, pings, close, terminate, the
 * deadline, a caller's random source and the borrowed-view rule. Built with
 * AddressSanitizer and UBSan by scripts/c-build.sh; exits 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc6455.h"

static int failures = 0, checks = 0;

#define CHECK(cond)                                                                \
    do {                                                                           \
        checks++;                                                                  \
        if (!(cond)) {                                                             \
            failures++;                                                            \
            fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond);       \
        }                                                                          \
    } while (0)

#define SECOND 1000000000ull

/* Moves every byte one side has queued to the other; how many. */
static size_t pump(rfc6455_conn *from, rfc6455_conn *to, uint64_t now) {
    uint8_t buf[4096];
    size_t n, moved = 0;
    while (rfc6455_conn_poll_transmit(from, buf, sizeof buf, &n) == RFC6455_OK) {
        size_t taken = 0;
        /* Small conversations: the engine takes everything at once. */
        CHECK(rfc6455_conn_handle_bytes(to, now, buf, n, &taken) == RFC6455_OK && taken == n);
        moved += n;
    }
    return moved;
}

/* A fixed "random" source: counts, and how often it was called. */
static int random_calls = 0;
static void counting_random(void *ctx, uint8_t *buf, size_t len) {
    uint8_t *next = (uint8_t *)ctx;
    size_t i;
    random_calls++;
    for (i = 0; i < len; i++) buf[i] = (*next)++;
}

static void test_versions(void) {
    const char *text = rfc6455_version();
    char expect[32];
    CHECK(RFC6455_VERSION_NUMBER ==
          RFC6455_VERSION_MAJOR * 1000000 + RFC6455_VERSION_MINOR * 1000 + RFC6455_VERSION_PATCH);
    CHECK(rfc6455_version_number() == RFC6455_VERSION_NUMBER);
    snprintf(expect, sizeof expect, "%d.%d.%d", RFC6455_VERSION_MAJOR, RFC6455_VERSION_MINOR, RFC6455_VERSION_PATCH);
    CHECK(text != NULL && strcmp(text, expect) == 0);
}

static void test_status_strings(void) {
    CHECK(strcmp(rfc6455_status_str(RFC6455_OK), "RFC6455_OK") == 0);
    CHECK(strcmp(rfc6455_status_str(RFC6455_DONE), "RFC6455_DONE") == 0);
    CHECK(strcmp(rfc6455_status_str(RFC6455_ERR_NULL_ARGUMENT), "RFC6455_ERR_NULL_ARGUMENT") == 0);
    CHECK(strcmp(rfc6455_status_str(RFC6455_PANIC), "RFC6455_PANIC") == 0);
    CHECK(strcmp(rfc6455_status_str(RFC6455_ERR_PROTOCOL), "RFC6455_ERR_PROTOCOL") == 0);
    CHECK(strcmp(rfc6455_status_str(123456), "RFC6455_UNKNOWN") == 0);
    CHECK(rfc6455_test_panic() == RFC6455_PANIC);
}

static void test_null_arguments(void) {
    rfc6455_conn *conn = NULL;
    rfc6455_event ev;
    size_t n;
    uint64_t at;
    uint32_t state;
    const uint8_t *p;
    CHECK(rfc6455_conn_server(NULL, 0, NULL) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_client(NULL, NULL, 0, &conn) == RFC6455_ERR_NULL_ARGUMENT && conn == NULL);
    CHECK(rfc6455_client_request_new(NULL, NULL) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_config_new(NULL) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_config_set_max_message_size(NULL, 1) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_handle_bytes(NULL, 0, (const uint8_t *)"x", 1, &n) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_poll_event(NULL, &ev) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_poll_transmit(NULL, NULL, 0, &n) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_timeout(NULL, &at) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_ready_state(NULL, &state) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_send_text(NULL, NULL, 0) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_close(NULL, 0, 1000, NULL, 0) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_terminate(NULL, 0) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_request_path(NULL, &p, &n) == RFC6455_ERR_NULL_ARGUMENT);
    rfc6455_conn_free(NULL);
    rfc6455_config_free(NULL);
    rfc6455_client_request_free(NULL);

    /* On a live connection: NULL out-parameters and data change nothing. */
    CHECK(rfc6455_conn_server(NULL, 0, &conn) == RFC6455_OK && conn != NULL);
    CHECK(rfc6455_conn_poll_event(conn, NULL) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_handle_bytes(conn, 0, NULL, 5, &n) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_handle_bytes(conn, 0, (const uint8_t *)"G", 1, NULL) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_poll_transmit(conn, NULL, 10, &n) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_buffered_amount(conn, NULL) == RFC6455_ERR_NULL_ARGUMENT);
    CHECK(rfc6455_conn_open(7, NULL, NULL, 0, &conn) == RFC6455_ERR_INVALID_ARGUMENT);
    CHECK(rfc6455_conn_send_binary(conn, (const uint8_t *)"x", SIZE_MAX) == RFC6455_ERR_INVALID_ARGUMENT);
    CHECK(rfc6455_conn_reject(conn, 0, 404, (const rfc6455_header *)"x", SIZE_MAX, NULL, 0) ==
          RFC6455_ERR_INVALID_ARGUMENT);
    CHECK(rfc6455_conn_ready_state(conn, &state) == RFC6455_OK && state == RFC6455_CONNECTING);
    CHECK(rfc6455_conn_poll_event(conn, &ev) == RFC6455_DONE);
    rfc6455_conn_free(conn);
}

static void test_bad_urls_and_headers(void) {
    rfc6455_client_request *req = NULL;
    rfc6455_conn *conn = NULL;
    CHECK(rfc6455_client_request_new("http://example.com/", &req) == RFC6455_ERR_INVALID_URL && req == NULL);
    CHECK(rfc6455_client_request_new("ws://\xff/", &req) == RFC6455_ERR_INVALID_UTF8);
    CHECK(rfc6455_client_request_new("ws://127.0.0.1:9001/chat?x=1", &req) == RFC6455_OK);
    CHECK(rfc6455_client_request_add_header(req, "Sec-WebSocket-Key", "mine") == RFC6455_OK);
    CHECK(rfc6455_conn_client(req, NULL, 0, &conn) == RFC6455_ERR_INVALID_HEADER && conn == NULL);
    rfc6455_client_request_free(req);
}

static void test_conversation(void) {
    static uint8_t seed = 0;
    rfc6455_config *config = NULL;
    rfc6455_client_request *req = NULL;
    rfc6455_conn *client = NULL, *server = NULL;
    rfc6455_event ev;
    rfc6455_close_event close_event;
    const uint8_t *p;
    size_t n, len;
    uint64_t at, now = 5 * SECOND;
    uint32_t state;
    bool flag = false;
    rfc6455_header extra = {"X-Served-By", "api_test"};
    uint8_t tiny[1];

    CHECK(rfc6455_config_new(&config) == RFC6455_OK);
    CHECK(rfc6455_config_set_random(config, counting_random, &seed) == RFC6455_OK);
    CHECK(rfc6455_config_set_keepalive_interval(config, 2 * SECOND) == RFC6455_OK);
    CHECK(rfc6455_client_request_new("ws://127.0.0.1:9001/chat?room=1", &req) == RFC6455_OK);
    CHECK(rfc6455_client_request_add_protocol(req, "v2") == RFC6455_OK);
    CHECK(rfc6455_client_request_add_protocol(req, "v1") == RFC6455_OK);
    CHECK(rfc6455_client_request_add_header(req, "Origin", "http://localhost") == RFC6455_OK);
    CHECK(rfc6455_conn_client(req, config, now, &client) == RFC6455_OK);
    rfc6455_client_request_free(req);
    CHECK(random_calls == 1); /* the nonce */
    CHECK(rfc6455_conn_server(config, now, &server) == RFC6455_OK);
    rfc6455_config_free(config); /* the connections keep their copies */

    /* The handshake deadline, on our clock. */
    CHECK(rfc6455_conn_timeout(client, &at) == RFC6455_OK && at == now + 10 * SECOND);
    /* A buffer with no room, while bytes wait. */
    CHECK(rfc6455_conn_poll_transmit(client, tiny, 0, &n) == RFC6455_BUFFER_TOO_SMALL);
    CHECK(rfc6455_conn_buffered_amount(client, &len) == RFC6455_OK && len > 100);

    CHECK(pump(client, server, now) > 0);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_REQUEST && ev.request);
    CHECK(rfc6455_request_path(ev.request, &p, &n) == RFC6455_OK && n == 5 && memcmp(p, "/chat", 5) == 0);
    CHECK(rfc6455_request_query(ev.request, &p, &n) == RFC6455_OK && n == 6 && memcmp(p, "room=1", 6) == 0);
    CHECK(rfc6455_request_header(ev.request, "origin", &p, &n) == RFC6455_OK && n == 16);
    CHECK(rfc6455_request_header(ev.request, "X-Missing", &p, &n) == RFC6455_DONE);
    CHECK(rfc6455_request_is_upgrade(ev.request, &flag) == RFC6455_OK && flag);
    CHECK(rfc6455_request_protocol(ev.request, 1, &p, &n) == RFC6455_OK && n == 2 && memcmp(p, "v1", 2) == 0);
    CHECK(rfc6455_request_protocol(ev.request, 2, &p, &n) == RFC6455_DONE);
    CHECK(rfc6455_conn_accept(server, now, (const uint8_t *)"v3", 2, NULL, 0) == RFC6455_ERR_PROTOCOL_NOT_OFFERED);
    CHECK(rfc6455_conn_accept(client, now, NULL, 0, NULL, 0) == RFC6455_ERR_WRONG_ROLE);
    /* The request's headers, by index. */
    {
        const uint8_t *name, *value;
        size_t name_len, value_len, i, found = 0;
        for (i = 0; rfc6455_request_header_at(ev.request, i, &name, &name_len, &value, &value_len) == RFC6455_OK; i++)
            found += name_len == 6 && memcmp(name, "Origin", 6) == 0 && value_len == 16;
        CHECK(found == 1 && i >= 5);
    }
    /* Accept with the request's own string for the subprotocol. */
    CHECK(rfc6455_request_protocol(ev.request, 1, &p, &n) == RFC6455_OK);
    CHECK(rfc6455_conn_accept(server, now, p, n, &extra, 1) == RFC6455_OK);
    CHECK(rfc6455_conn_accept(server, now, (const uint8_t *)"v1", 2, NULL, 0) == RFC6455_ERR_NO_REQUEST);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_OPEN);
    CHECK(rfc6455_conn_protocol(server, &p, &n) == RFC6455_OK && n == 2 && memcmp(p, "v1", 2) == 0);

    pump(server, client, now);
    CHECK(rfc6455_conn_poll_event(client, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_OPEN);
    CHECK(rfc6455_conn_ready_state(client, &state) == RFC6455_OK && state == RFC6455_OPEN);
    CHECK(rfc6455_conn_protocol(client, &p, &n) == RFC6455_OK && n == 2 && memcmp(p, "v1", 2) == 0);
    CHECK(rfc6455_conn_extensions(client, &p, &n) == RFC6455_OK && n == 0);
    CHECK(rfc6455_conn_timeout(client, &at) == RFC6455_OK && at == now + 2 * SECOND); /* keepalive */

    /* Messages: the client masks with keys from our source. */
    random_calls = 0;
    CHECK(rfc6455_conn_send_text(client, (const uint8_t *)"h\xc3\xa9", 3) == RFC6455_OK);
    CHECK(random_calls == 1);
    CHECK(rfc6455_conn_send_binary(client, NULL, 0) == RFC6455_OK);
    CHECK(rfc6455_conn_send_fragment(client, RFC6455_EVENT_TEXT, (const uint8_t *)"ab", 2, false) == RFC6455_OK);
    CHECK(rfc6455_conn_send_binary(client, (const uint8_t *)"x", 1) == RFC6455_ERR_MESSAGE_IN_PROGRESS);
    CHECK(rfc6455_conn_send_ping(client, (const uint8_t *)"p", 1) == RFC6455_OK);
    CHECK(rfc6455_conn_send_fragment(client, RFC6455_EVENT_BINARY, (const uint8_t *)"c", 1, true) ==
          RFC6455_ERR_MESSAGE_IN_PROGRESS);
    CHECK(rfc6455_conn_send_fragment(client, RFC6455_EVENT_TEXT, (const uint8_t *)"c", 1, true) == RFC6455_OK);
    CHECK(rfc6455_conn_send_fragment(client, 99, NULL, 0, true) == RFC6455_ERR_INVALID_ARGUMENT);
    CHECK(rfc6455_conn_send_text(client, (const uint8_t *)"\xc3", 1) == RFC6455_ERR_INVALID_UTF8);
    {
        uint8_t ping[126] = {0};
        CHECK(rfc6455_conn_send_ping(client, ping, sizeof ping) == RFC6455_ERR_CONTROL_TOO_LONG);
    }
    pump(client, server, now);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_TEXT && ev.fin &&
          ev.len == 3 && memcmp(ev.data, "h\xc3\xa9", 3) == 0);
    /* The borrowed bytes may go straight back: the echo pattern. */
    CHECK(rfc6455_conn_send_text(server, ev.data, ev.len) == RFC6455_OK);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_BINARY && ev.len == 0 &&
          ev.data != NULL);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_PING && ev.len == 1);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_TEXT && ev.len == 3 &&
          memcmp(ev.data, "abc", 3) == 0);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_DONE);
    pump(server, client, now);
    CHECK(rfc6455_conn_poll_event(client, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_TEXT && ev.len == 3);
    CHECK(rfc6455_conn_poll_event(client, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_PONG && ev.len == 1);

    /* The keepalive ping comes at its deadline. */
    CHECK(rfc6455_conn_timeout(client, &at) == RFC6455_OK);
    CHECK(rfc6455_conn_handle_timeout(client, at) == RFC6455_OK);
    CHECK(pump(client, server, at) > 0);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_PING);
    now = at;

    /* Close: codes that may not be sent change nothing. */
    CHECK(rfc6455_conn_close(client, now, 1006, NULL, 0) == RFC6455_ERR_INVALID_CLOSE_CODE);
    CHECK(rfc6455_conn_close(client, now, 999, NULL, 0) == RFC6455_ERR_INVALID_CLOSE_CODE);
    {
        char reason[124];
        memset(reason, 'r', sizeof reason);
        CHECK(rfc6455_conn_close(client, now, 4000, (const uint8_t *)reason, sizeof reason) ==
              RFC6455_ERR_REASON_TOO_LONG);
    }
    CHECK(rfc6455_conn_ready_state(client, &state) == RFC6455_OK && state == RFC6455_OPEN);
    CHECK(rfc6455_conn_close(client, now, 4000, (const uint8_t *)"bye \xe2\x9c\x93", 7) == RFC6455_OK);
    CHECK(rfc6455_conn_send_text(client, (const uint8_t *)"late", 4) == RFC6455_ERR_CLOSING);
    CHECK(rfc6455_conn_close_event(client, &close_event) == RFC6455_DONE);
    pump(client, server, now);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_CLOSED && ev.code == 4000 &&
          ev.was_clean && ev.len == 7 && memcmp(ev.data, "bye \xe2\x9c\x93", 7) == 0);
    pump(server, client, now);
    CHECK(rfc6455_conn_should_close_transport(server, &flag) == RFC6455_OK && flag);
    /* The pong to the keepalive ping comes first; a client's close event
     * waits for the server to close TCP (EOF). */
    CHECK(rfc6455_conn_poll_event(client, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_PONG);
    CHECK(rfc6455_conn_poll_event(client, &ev) == RFC6455_DONE);
    CHECK(rfc6455_conn_ready_state(client, &state) == RFC6455_OK && state == RFC6455_CLOSING);
    CHECK(rfc6455_conn_handle_eof(client, now) == RFC6455_OK);
    CHECK(rfc6455_conn_poll_event(client, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_CLOSED && ev.code == 4000 &&
          ev.was_clean);
    CHECK(rfc6455_conn_close_event(client, &close_event) == RFC6455_OK && close_event.code == 4000 &&
          close_event.reason_len == 7 && close_event.was_clean);
    CHECK(rfc6455_conn_ready_state(client, &state) == RFC6455_OK && state == RFC6455_CLOSED);
    CHECK(rfc6455_conn_send_text(client, (const uint8_t *)"late", 4) == RFC6455_ERR_CLOSED);
    rfc6455_conn_free(client);
    rfc6455_conn_free(server);
}

static void test_protocol_error_and_terminate(void) {
    rfc6455_conn *server = NULL, *other = NULL;
    rfc6455_event ev;
    size_t taken;
    /* An unmasked frame from a client: 1002 goes out with the error. */
    static const uint8_t unmasked[] = {0x81, 0x02, 'h', 'i'};
    CHECK(rfc6455_conn_open(RFC6455_ROLE_SERVER, NULL, NULL, 0, &server) == RFC6455_OK);
    CHECK(rfc6455_conn_handle_bytes(server, 0, unmasked, sizeof unmasked, &taken) == RFC6455_OK);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_ERROR &&
          ev.error == RFC6455_ERR_PROTOCOL && ev.code == 1002 && ev.len > 0);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_CLOSED && ev.code == 1006 &&
          !ev.was_clean);
    rfc6455_conn_free(server);

    /* terminate: 1006, nothing more to send. */
    CHECK(rfc6455_conn_open(RFC6455_ROLE_CLIENT, "chat", NULL, 0, &other) == RFC6455_OK);
    CHECK(rfc6455_conn_send_text(other, (const uint8_t *)"unsent", 6) == RFC6455_OK);
    CHECK(rfc6455_conn_terminate(other, 1) == RFC6455_OK);
    CHECK(rfc6455_conn_poll_event(other, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_CLOSED && ev.code == 1006);
    {
        uint8_t buf[64];
        size_t n;
        CHECK(rfc6455_conn_poll_transmit(other, buf, sizeof buf, &n) == RFC6455_DONE);
    }
    rfc6455_conn_free(other);
}

static void test_reject(void) {
    static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    rfc6455_conn *server = NULL;
    rfc6455_event ev;
    rfc6455_header header = {"Content-Type", "text/plain"};
    uint8_t buf[512];
    size_t taken, n;
    bool upgrade = true;
    CHECK(rfc6455_conn_server(NULL, 0, &server) == RFC6455_OK);
    CHECK(rfc6455_conn_handle_bytes(server, 0, (const uint8_t *)get, sizeof get - 1, &taken) == RFC6455_OK);
    CHECK(rfc6455_conn_poll_event(server, &ev) == RFC6455_OK && ev.kind == RFC6455_EVENT_REQUEST);
    CHECK(rfc6455_request_is_upgrade(ev.request, &upgrade) == RFC6455_OK && !upgrade);
    CHECK(rfc6455_conn_accept(server, 0, NULL, 0, NULL, 0) == RFC6455_ERR_NOT_UPGRADE);
    CHECK(rfc6455_conn_reject(server, 0, 99, NULL, 0, NULL, 0) == RFC6455_ERR_INVALID_STATUS);
    CHECK(rfc6455_conn_reject(server, 0, 404, &header, 1, (const uint8_t *)"none\n", 5) == RFC6455_OK);
    CHECK(rfc6455_conn_poll_transmit(server, buf, sizeof buf, &n) == RFC6455_OK && n > 20 &&
          memcmp(buf, "HTTP/1.1 404", 12) == 0 && memcmp(buf + n - 5, "none\n", 5) == 0);
    rfc6455_conn_free(server);
}

int main(void) {
    test_versions();
    test_status_strings();
    test_null_arguments();
    test_bad_urls_and_headers();
    test_conversation();
    test_protocol_error_and_terminate();
    test_reject();
    printf("api_test: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
