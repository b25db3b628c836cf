/*
 * C test of the library through its public header, against the local test server.
 *
 *   test_client BASE_URL
 *
 * Built with -Wall -Wextra -Werror and run plain, under AddressSanitizer and under valgrind
 * (see the Makefile). Prints one line per check and a closing "N passed, N failed" line.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aichat.h"

static int passed, failed;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        if (cond) {                                       \
            passed++;                                     \
        } else {                                          \
            failed++;                                     \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            printf(__VA_ARGS__);                          \
            printf("\n");                                 \
        }                                                 \
    } while (0)

typedef struct {
    char text[4096];
    size_t len;
    int calls;
    int stop_after; /* 0 = never */
} Collected;

static int collect(const char *chunk, size_t len, void *user_data) {
    Collected *c = user_data;
    if (chunk[len] != '\0' || len == 0) c->calls = -1000; /* contract broken: make checks fail */
    if (c->len + len < sizeof c->text) {
        memcpy(c->text + c->len, chunk, len);
        c->len += len;
        c->text[c->len] = '\0';
    }
    c->calls++;
    return c->stop_after && c->calls >= c->stop_after;
}

static char base_url[512];

static char *request_for(const char *fault, const char *messages, const char *extra) {
    static char buf[8192];
    snprintf(buf, sizeof buf, "{\"messages\":%s,\"base_url\":\"%s%s%s\",\"proxy\":\"\"%s%s}", messages, base_url,
             fault ? "/fault/" : "", fault ? fault : "", extra ? "," : "", extra ? extra : "");
    return buf;
}

#define HI "[{\"role\":\"user\",\"content\":\"Hi\"}]"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_version_and_names(void) {
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", AICHAT_VERSION_MAJOR, AICHAT_VERSION_MINOR, AICHAT_VERSION_PATCH);
    CHECK(strcmp(aichat_version(), expected) == 0, "version %s", aichat_version());
    CHECK(strcmp(aichat_status_name(AICHAT_ERROR_TIMEOUT), "AICHAT_ERROR_TIMEOUT") == 0, "name");
    CHECK(strcmp(aichat_status_name(99), "AICHAT_UNKNOWN") == 0, "unknown");
    CHECK(strcmp(aichat_status_name(-3), "AICHAT_UNKNOWN") == 0, "negative");
}

static void test_one_shot(void) {
    Collected c = {0};
    AichatError *error = (AichatError *)&c; /* garbage: must be overwritten with NULL */
    AichatStatus s = aichat_create_completion(request_for(NULL, HI, NULL), collect, &c, &error);
    CHECK(s == AICHAT_OK, "status %s", aichat_status_name((int)s));
    CHECK(error == NULL, "error not cleared");
    CHECK(strcmp(c.text, "You said: Hi") == 0, "text '%s'", c.text);
    CHECK(c.calls == 1, "calls %d", c.calls);
}

static void test_client_with_options(void) {
    char options[600];
    snprintf(options, sizeof options, "{\"base_url\":\"%s\",\"proxy\":\"\"}", base_url);
    AichatError *error = NULL;
    AichatClient *client = aichat_client_new(options, &error);
    CHECK(client != NULL && error == NULL, "client");
    Collected c = {0};
    AichatStatus s = aichat_client_create_completion(
        client, "[{\"role\":\"user\",\"content\":\"h\xc3\xa9llo \xf0\x9f\x91\x8b\"}]", collect, &c, NULL, &error);
    CHECK(s == AICHAT_OK, "status %s", aichat_status_name((int)s));
    CHECK(strcmp(c.text, "You said: h\xc3\xa9llo \xf0\x9f\x91\x8b") == 0, "text '%s'", c.text);
    aichat_client_free(client);
}

static void test_http_error(void) {
    AichatClient *client = aichat_client_new(NULL, NULL);
    Collected c = {0};
    AichatError *error = NULL;
    AichatStatus s = aichat_client_create_completion(client, request_for("status=503", HI, "\"max_retries\":0"), collect, &c, NULL, &error);
    CHECK(s == AICHAT_ERROR_HTTP_STATUS, "status %s", aichat_status_name((int)s));
    CHECK(error != NULL, "error set");
    CHECK(aichat_error_code(error) == AICHAT_ERROR_HTTP_STATUS, "code");
    CHECK(aichat_error_http_status(error) == 503, "http %u", aichat_error_http_status(error));
    CHECK(strstr(aichat_error_message(error), "injected HTTP 503") != NULL, "message '%s'", aichat_error_message(error));
    aichat_error_free(error);
    aichat_client_free(client);
}

static void test_server_and_protocol_errors(void) {
    struct {
        const char *fault;
        AichatStatus expected;
    } cases[] = {
        {"response-false", AICHAT_ERROR_SERVER},
        {"not-json", AICHAT_ERROR_PROTOCOL},
        {"no-message", AICHAT_ERROR_PROTOCOL},
        {"truncate", AICHAT_ERROR_IO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Collected c = {0};
        AichatError *error = NULL;
        AichatStatus s = aichat_create_completion(request_for(cases[i].fault, HI, NULL), collect, &c, &error);
        CHECK(s == cases[i].expected, "%s: %s (%s)", cases[i].fault, aichat_status_name((int)s), aichat_error_message(error));
        CHECK(c.calls == 0, "%s: no chunk", cases[i].fault);
        aichat_error_free(error);
    }
}

static void test_openai_stream(void) {
    char req[1024];
    snprintf(req, sizeof req,
             "{\"provider\":\"openai\",\"stream\":true,\"base_url\":\"%s/fault/keepalive,crlf/v1\",\"proxy\":\"\","
             "\"messages\":[{\"role\":\"user\",\"content\":\"one two\"}]}",
             base_url);
    Collected c = {0};
    AichatError *error = NULL;
    AichatStatus s = aichat_create_completion(req, collect, &c, &error);
    CHECK(s == AICHAT_OK, "status %s: %s", aichat_status_name((int)s), aichat_error_message(error));
    CHECK(strcmp(c.text, "You said: one two") == 0, "text '%s'", c.text);
    CHECK(c.calls == 4, "calls %d (one per word)", c.calls);
    aichat_error_free(error);
}

static void test_stream_pull(void) {
    char req[1024];
    snprintf(req, sizeof req,
             "{\"provider\":\"openai\",\"stream\":true,\"base_url\":\"%s/fault/chunks=1000/v1\",\"proxy\":\"\","
             "\"messages\":[]}",
             base_url);
    AichatClient *client = aichat_client_new(NULL, NULL);
    AichatError *error = NULL;
    AichatStream *stream = aichat_client_stream_open(client, req, NULL, &error);
    CHECK(stream != NULL && error == NULL, "open");
    size_t total = 0, batches = 0, in_order = 1, layout_ok = 1;
    for (;;) {
        AichatChunks chunks;
        AichatStatus s = aichat_stream_next(stream, 1000, &chunks, &error);
        if (s != AICHAT_OK) {
            CHECK(0, "next: %s %s", aichat_status_name((int)s), aichat_error_message(error));
            aichat_error_free(error);
            break;
        }
        size_t start = 0;
        for (size_t i = 0; i < chunks.count; i++) {
            char expected[32];
            int n = snprintf(expected, sizeof expected, "tok%zu ", total + i);
            if ((size_t)n != chunks.ends[i] - start || memcmp(chunks.text + start, expected, (size_t)n) != 0) in_order = 0;
            start = chunks.ends[i];
        }
        if (start != chunks.text_len || chunks.text[chunks.text_len] != '\0') layout_ok = 0;
        total += chunks.count;
        batches += chunks.count > 0;
        if (chunks.finished) break;
    }
    CHECK(total == 1000, "total %zu", total);
    CHECK(in_order, "chunks in order");
    CHECK(layout_ok, "batch layout: ends cover text, NUL after it");
    CHECK(batches >= 1 && batches <= 1000, "batches %zu", batches);
    aichat_stream_free(stream);
    aichat_client_free(client);
}

static void test_bad_input(void) {
    AichatError *error = NULL;
    Collected c = {0};
    CHECK(aichat_create_completion(NULL, collect, &c, &error) == AICHAT_ERROR_INVALID_ARGUMENT, "NULL json");
    aichat_error_free(error);
    CHECK(aichat_create_completion(HI, NULL, NULL, NULL) == AICHAT_ERROR_INVALID_ARGUMENT, "NULL callback");
    CHECK(aichat_create_completion("{\"messages\":", collect, &c, &error) == AICHAT_ERROR_INVALID_REQUEST, "bad JSON");
    CHECK(strncmp(aichat_error_message(error), "invalid request: ", 17) == 0, "message '%s'", aichat_error_message(error));
    aichat_error_free(error);
    CHECK(aichat_create_completion("[{\"role\":\"user\",\"content\":\"\xff\"}]", collect, &c, &error) ==
              AICHAT_ERROR_INVALID_ARGUMENT,
          "bad UTF-8");
    aichat_error_free(error);
    CHECK(aichat_client_create_completion(NULL, HI, collect, &c, NULL, &error) == AICHAT_ERROR_INVALID_ARGUMENT, "NULL client");
    aichat_error_free(error);
    CHECK(aichat_client_new("{\"temperature\":\"hot\"}", &error) == NULL, "bad options");
    CHECK(aichat_error_code(error) == AICHAT_ERROR_INVALID_REQUEST, "bad options code");
    aichat_error_free(error);
    CHECK(c.calls == 0, "no chunk for bad input");
    aichat_client_free(NULL);
    aichat_cancel_free(NULL);
    aichat_error_free(NULL);
    aichat_cancel_trigger(NULL);
    CHECK(aichat_error_code(NULL) == AICHAT_ERROR_INVALID_ARGUMENT, "NULL error code");
    CHECK(strcmp(aichat_error_message(NULL), "") == 0, "NULL error message");
}

static void test_callback_stop(void) {
    Collected c = {.stop_after = 1};
    AichatError *error = NULL;
    AichatStatus s = aichat_create_completion(request_for(NULL, HI, NULL), collect, &c, &error);
    CHECK(s == AICHAT_ERROR_CANCELLED, "status %s", aichat_status_name((int)s));
    CHECK(c.calls == 1, "calls %d", c.calls);
    aichat_error_free(error);
}

/* What the event callback saw. */
typedef struct {
    int kinds[64];
    int count;
    int broken; /* a promise of the contract was not kept */
    char text[512], arguments[512], message[1024], call_id[64], call_name[64], finish[32], request_id[64];
    AichatUsage usage;
    int results; /* RESULT events, each checked against what the events before it said */
} Events;

static void append(char *dst, size_t cap, const char *s, size_t len) {
    size_t have = strlen(dst);
    if (have + len < cap) {
        memcpy(dst + have, s, len);
        dst[have + len] = '\0';
    }
}

static int same(const char *s, size_t len, const char *expected) {
    return s != NULL && s[len] == '\0' && strlen(s) == len && strcmp(s, expected) == 0;
}

/* The typed view of RESULT (one choice here) says what the events before it said. */
static void check_result(Events *ev, const AichatEvent *e, const AichatResult *r) {
    const AichatChoice *c = r->choices;
    int ok = r->choice_count == 1 && c != NULL && c->index == 0 && strcmp(r->request_id, ev->request_id) == 0 &&
             strcmp(r->id, "chatcmpl-aichat-test") == 0 && r->model[0] != '\0' &&
             same(c->text, c->text_len, ev->text) && same(c->message, c->message_len, ev->message) &&
             strcmp(c->finish_reason, ev->finish) == 0 && strcmp(c->finish_reason_raw, ev->finish) == 0 &&
             c->reasoning[c->reasoning_len] == '\0' && same(c->refusal, c->refusal_len, "");
    if (ev->call_id[0] != '\0') {
        const AichatToolCall *t = c->tool_calls;
        ok = ok && c->tool_call_count == 1 && strcmp(t->id, ev->call_id) == 0 && strcmp(t->name, ev->call_name) == 0 &&
             same(t->arguments, t->arguments_len, ev->arguments);
    } else {
        ok = ok && c->tool_call_count == 0 && c->tool_calls == NULL;
    }
    ok = ok && r->usage != NULL && r->usage->total_tokens == ev->usage.total_tokens &&
         e->usage->prompt_tokens == ev->usage.prompt_tokens && strncmp(e->text, "{\"id\":", 6) == 0;
    if (!ok) ev->broken++;
    ev->results++;
}

static void record(Events *ev, const AichatEvent *e) {
    if (!e->text || !e->id || !e->name || e->text[e->text_len] != '\0' || strlen(e->text) != e->text_len) ev->broken++;
    if ((e->usage != NULL) != (e->kind == AICHAT_EVENT_USAGE || e->kind == AICHAT_EVENT_RESULT)) ev->broken++;
    AichatEvent copy = *e; /* the typed view is reached from a copy too */
    const AichatResult *result = aichat_event_result(&copy);
    if ((result != NULL) != (e->kind == AICHAT_EVENT_RESULT)) ev->broken++;
    if (ev->count < 64) ev->kinds[ev->count++] = (int)e->kind;
    switch (e->kind) {
    case AICHAT_EVENT_RESPONSE: append(ev->request_id, sizeof ev->request_id, e->text, e->text_len); break;
    case AICHAT_EVENT_TEXT: append(ev->text, sizeof ev->text, e->text, e->text_len); break;
    case AICHAT_EVENT_TOOL_CALL:
        append(ev->call_id, sizeof ev->call_id, e->id, strlen(e->id));
        append(ev->call_name, sizeof ev->call_name, e->name, strlen(e->name));
        if (e->index != 0) ev->broken++;
        break;
    case AICHAT_EVENT_TOOL_ARGUMENTS: append(ev->arguments, sizeof ev->arguments, e->text, e->text_len); break;
    case AICHAT_EVENT_FINISH: append(ev->finish, sizeof ev->finish, e->text, e->text_len); break;
    case AICHAT_EVENT_USAGE: ev->usage = *e->usage; break;
    case AICHAT_EVENT_MESSAGE: append(ev->message, sizeof ev->message, e->text, e->text_len); break;
    case AICHAT_EVENT_RESULT: check_result(ev, e, result); break;
    default: break;
    }
}

static int on_event(const AichatEvent *e, void *user_data) {
    record(user_data, e);
    return 0;
}

#define TOOLS                                                                                              \
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":" \
    "\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}]"

static char *openai_request(const char *fault, const char *extra) {
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"provider\":\"openai\",\"stream\":true,\"base_url\":\"%s/fault/%s/v1\",\"proxy\":\"\","
             "\"messages\":[{\"role\":\"user\",\"content\":\"Paris\"}]%s%s}",
             base_url, fault, extra ? "," : "", extra ? extra : "");
    return buf;
}

static void test_events_tool_call(void) {
    AichatClient *client = aichat_client_new(NULL, NULL);
    Events ev = {0};
    AichatError *error = NULL;
    AichatStatus s =
        aichat_client_create_completion_events(client, openai_request("keepalive", TOOLS), on_event, &ev, NULL, &error);
    CHECK(s == AICHAT_OK, "status %s: %s", aichat_status_name((int)s), aichat_error_message(error));
    CHECK(ev.broken == 0, "%d broken promises", ev.broken);
    CHECK(ev.count > 4 && ev.kinds[0] == AICHAT_EVENT_RESPONSE && ev.kinds[ev.count - 1] == AICHAT_EVENT_MESSAGE,
          "RESPONSE first, MESSAGE last");
    CHECK(strcmp(ev.request_id, "req-aichat-test") == 0, "request id '%s'", ev.request_id);
    CHECK(strcmp(ev.call_id, "call_aichat_0") == 0 && strcmp(ev.call_name, "get_weather") == 0, "call %s %s",
          ev.call_id, ev.call_name);
    CHECK(strcmp(ev.arguments, "{\"city\":\"Paris\"}") == 0, "arguments '%s'", ev.arguments);
    CHECK(strcmp(ev.finish, "tool_calls") == 0, "finish '%s'", ev.finish);
    CHECK(ev.usage.prompt_tokens == 9 && ev.usage.total_tokens == 21, "usage %lld", (long long)ev.usage.total_tokens);
    CHECK(strstr(ev.message, "\"tool_calls\":[{\"id\":\"call_aichat_0\"") != NULL, "message '%s'", ev.message);
    aichat_error_free(error);
    aichat_client_free(client);
}

static void test_events_pulled(void) {
    AichatClient *client = aichat_client_new(NULL, NULL);
    AichatError *error = NULL;
    AichatStream *stream = aichat_client_stream_open_events(client, openai_request("reasoning", NULL), NULL, &error);
    CHECK(stream != NULL, "open");
    Events ev = {0};
    int reasoning = 0;
    for (;;) {
        AichatEvents batch;
        AichatStatus s = aichat_stream_next_events(stream, 1000, &batch, &error);
        if (s != AICHAT_OK) {
            CHECK(0, "next: %s %s", aichat_status_name((int)s), aichat_error_message(error));
            aichat_error_free(error);
            break;
        }
        for (size_t i = 0; i < batch.count; i++) {
            reasoning += batch.items[i].kind == AICHAT_EVENT_REASONING;
            record(&ev, &batch.items[i]);
        }
        if (batch.finished) break;
    }
    CHECK(ev.broken == 0, "%d broken promises", ev.broken);
    CHECK(strcmp(ev.text, "You said: Paris") == 0, "text '%s'", ev.text);
    CHECK(reasoning > 0, "reasoning events");
    CHECK(strstr(ev.message, "\"reasoning_content\":") != NULL, "message '%s'", ev.message);
    AichatChunks chunks;
    CHECK(aichat_stream_next(stream, 0, &chunks, NULL) == AICHAT_ERROR_INVALID_ARGUMENT, "text pull on an event stream");
    aichat_stream_free(stream);
    CHECK(aichat_client_create_completion_events(client, HI, NULL, NULL, NULL, &error) == AICHAT_ERROR_INVALID_ARGUMENT,
          "NULL event callback");
    aichat_error_free(error);
    CHECK(aichat_stream_next_events(NULL, 0, NULL, NULL) == AICHAT_ERROR_INVALID_ARGUMENT, "NULL stream");
    aichat_client_free(client);
}

/* With "result": RESULT last, pushed (a tool call) and pulled (reasoning). */
static void test_events_result(void) {
    AichatClient *client = aichat_client_new("{\"result\":true}", NULL);
    Events ev = {0};
    AichatError *error = NULL;
    AichatStatus s =
        aichat_client_create_completion_events(client, openai_request("keepalive", TOOLS), on_event, &ev, NULL, &error);
    CHECK(s == AICHAT_OK, "status %s: %s", aichat_status_name((int)s), aichat_error_message(error));
    CHECK(ev.broken == 0 && ev.results == 1, "%d broken promises, %d results", ev.broken, ev.results);
    CHECK(ev.count > 4 && ev.kinds[ev.count - 1] == AICHAT_EVENT_RESULT && ev.kinds[ev.count - 2] == AICHAT_EVENT_MESSAGE,
          "RESULT last, after MESSAGE");
    Events pulled = {0};
    AichatStream *stream = aichat_client_stream_open_events(client, openai_request("reasoning", NULL), NULL, &error);
    CHECK(stream != NULL, "open");
    for (int finished = 0; stream != NULL && !finished;) {
        AichatEvents batch;
        s = aichat_stream_next_events(stream, 1000, &batch, &error);
        CHECK(s == AICHAT_OK, "next: %s", aichat_status_name((int)s));
        if (s != AICHAT_OK) break;
        for (size_t i = 0; i < batch.count; i++) record(&pulled, &batch.items[i]);
        finished = batch.finished;
    }
    CHECK(pulled.broken == 0 && pulled.results == 1, "%d broken promises, %d results", pulled.broken, pulled.results);
    CHECK(aichat_event_result(NULL) == NULL, "NULL event");
    aichat_stream_free(stream);
    aichat_error_free(error);
    aichat_client_free(client);
}

typedef struct {
    AichatCancel *cancel;
    double triggered_at;
} Trigger;

static void *trigger_later(void *arg) {
    Trigger *t = arg;
    struct timespec delay = {0, 300 * 1000 * 1000};
    nanosleep(&delay, NULL);
    t->triggered_at = now_ms();
    aichat_cancel_trigger(t->cancel);
    aichat_cancel_trigger(t->cancel); /* idempotent */
    return NULL;
}

static void test_cancel_from_another_thread(void) {
    AichatClient *client = aichat_client_new(NULL, NULL);
    Trigger t = {.cancel = aichat_cancel_new()};
    pthread_t thread;
    pthread_create(&thread, NULL, trigger_later, &t);
    Collected c = {0};
    AichatError *error = NULL;
    AichatStatus s = aichat_client_create_completion(client, request_for("silence", HI, "\"idle_timeout_ms\":1000"),
                                                     collect, &c, t.cancel, &error);
    double returned_at = now_ms();
    pthread_join(thread, NULL);
    CHECK(s == AICHAT_ERROR_CANCELLED, "status %s", aichat_status_name((int)s));
    /* Generous under valgrind; the Rust tests hold the 100 ms bound. */
    CHECK(returned_at - t.triggered_at < 1000, "returned %.1f ms after the trigger", returned_at - t.triggered_at);
    aichat_error_free(error);
    aichat_cancel_free(t.cancel);
    aichat_client_free(client);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_client BASE_URL\n");
        return 2;
    }
    snprintf(base_url, sizeof base_url, "%s", argv[1]);
    test_version_and_names();
    test_one_shot();
    test_client_with_options();
    test_http_error();
    test_server_and_protocol_errors();
    test_openai_stream();
    test_stream_pull();
    test_bad_input();
    test_callback_stop();
    test_cancel_from_another_thread();
    test_events_tool_call();
    test_events_pulled();
    test_events_result();
    /* Let the freed stream's library thread finish exiting, for a quiet leak check. */
    struct timespec settle = {0, 200 * 1000 * 1000};
    nanosleep(&settle, NULL);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
