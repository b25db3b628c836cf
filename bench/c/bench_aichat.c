/*
 * The C side of the benchmark harness (bench/run.py): fixed workloads through libaichat
 * against the local test server. Each mode prints one line of `key=value` figures.
 *
 *   bench_aichat overhead    BASE_URL N [CA]     N sequential one-shot aichat completions (over
 *                                                HTTPS with CA as ca_file when given)
 *   bench_aichat stream      BASE_URL N          one openai stream of N chunks, counted
 *   bench_aichat events      BASE_URL N          the same stream through the event API, TEXT events counted
 *   bench_aichat protocol    BASE_URL N NAME     the same stream in protocol NAME (openai, anthropic, ollama,
 *                                                responses, gemini)
 *   bench_aichat latency     BASE_URL N          N chunks 1 ms apart, server-stamped: p50/p99
 *   bench_aichat concurrency BASE_URL THREADS N  THREADS threads share a client, N calls each
 *   bench_aichat memory      BASE_URL BYTES      stream BYTES of text, discard it: peak RSS
 *   bench_aichat recorded    NAME BASE_URL N text|events [PASSES]
 *                                                a pre-recorded stream of protocol NAME from nginx,
 *                                                read PASSES times: the fastest pass
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aichat.h"
#include "proc_status.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of the whole process (every thread), user and system. */
static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int count_chunk(const char *chunk, size_t len, void *user_data) {
    (void)chunk;
    (void)len;
    ++*(size_t *)user_data;
    return 0;
}

static const char *ca_file = NULL;

static AichatClient *client_for(const char *base_url) {
    char options[2048];
    if (ca_file)
        snprintf(options, sizeof options, "{\"base_url\":\"%s\",\"proxy\":\"\",\"max_retries\":0,\"ca_file\":\"%s\"}",
                 base_url, ca_file);
    else
        snprintf(options, sizeof options, "{\"base_url\":\"%s\",\"proxy\":\"\",\"max_retries\":0}", base_url);
    AichatError *error = NULL;
    AichatClient *client = aichat_client_new(options, &error);
    if (!client) {
        fprintf(stderr, "client: %s\n", aichat_error_message(error));
        exit(1);
    }
    return client;
}

/* Runs one request; exits on failure (a benchmark of failures measures nothing). */
static void run(const AichatClient *client, const char *request, AichatChunkCallback cb, void *user_data) {
    AichatError *error = NULL;
    if (aichat_client_create_completion(client, request, cb, user_data, NULL, &error) != AICHAT_OK) {
        fprintf(stderr, "request failed: %s\n", aichat_error_message(error));
        exit(1);
    }
}

static const char *SHORT_PROMPT = "[{\"role\":\"user\",\"content\":\"Hello, how are you?\"}]";

static void overhead(const char *base, long n) {
    char url[1024];
    snprintf(url, sizeof url, "%s/fault/size=200", base);
    AichatClient *client = client_for(url);
    size_t chunks = 0;
    run(client, SHORT_PROMPT, count_chunk, &chunks); /* warm the connection */
    double t = now_s();
    for (long i = 0; i < n; i++) run(client, SHORT_PROMPT, count_chunk, &chunks);
    double dt = now_s() - t;
    printf("requests=%ld seconds=%.4f per_second=%.1f\n", n, dt, n / dt);
    aichat_client_free(client);
}

static void stream(const char *base, long n) {
    char url[1024], req[256];
    snprintf(url, sizeof url, "%s/fault/chunks=%ld/v1", base, n);
    AichatClient *client = client_for(url);
    snprintf(req, sizeof req, "{\"provider\":\"openai\",\"stream\":true,\"messages\":[]}");
    size_t chunks = 0;
    double t = now_s();
    run(client, req, count_chunk, &chunks);
    double dt = now_s() - t;
    if ((long)chunks != n) {
        fprintf(stderr, "got %zu chunks of %ld\n", chunks, n);
        exit(1);
    }
    printf("chunks=%zu seconds=%.4f per_second=%.1f\n", chunks, dt, chunks / dt);
    aichat_client_free(client);
}

/* The same stream pulled (aichat_stream_next, blocking waits): what a binding that pulls pays. */
static void pull(const char *base, long n) {
    char url[1024];
    snprintf(url, sizeof url, "%s/fault/chunks=%ld/v1", base, n);
    AichatClient *client = client_for(url);
    AichatError *error = NULL;
    double t = now_s();
    AichatStream *s = aichat_client_stream_open(client, "{\"provider\":\"openai\",\"stream\":true,\"messages\":[]}",
                                                NULL, &error);
    size_t chunks = 0;
    AichatChunks batch = {0};
    while (s && !batch.finished) {
        if (aichat_stream_next(s, 10000, &batch, &error) != AICHAT_OK) break;
        chunks += batch.count;
    }
    double dt = now_s() - t;
    if (error || (long)chunks != n) {
        fprintf(stderr, "pull: %s; got %zu chunks of %ld\n", error ? aichat_error_message(error) : "", chunks, n);
        exit(1);
    }
    printf("chunks=%zu seconds=%.4f per_second=%.1f\n", chunks, dt, chunks / dt);
    aichat_stream_free(s);
    aichat_client_free(client);
}

static int count_text_event(const AichatEvent *event, void *user_data) {
    if (event->kind == AICHAT_EVENT_TEXT) ++*(size_t *)user_data;
    return 0;
}

static void events(const char *base, long n) {
    char url[1024];
    snprintf(url, sizeof url, "%s/fault/chunks=%ld/v1", base, n);
    AichatClient *client = client_for(url);
    const char *req = "{\"provider\":\"openai\",\"stream\":true,\"messages\":[]}";
    size_t chunks = 0;
    AichatError *error = NULL;
    double t = now_s();
    if (aichat_client_create_completion_events(client, req, count_text_event, &chunks, NULL, &error) != AICHAT_OK) {
        fprintf(stderr, "request failed: %s\n", aichat_error_message(error));
        exit(1);
    }
    double dt = now_s() - t;
    if ((long)chunks != n) {
        fprintf(stderr, "got %zu text events of %ld\n", chunks, n);
        exit(1);
    }
    printf("chunks=%zu seconds=%.4f per_second=%.1f\n", chunks, dt, chunks / dt);
    aichat_client_free(client);
}

/* The path each protocol's stream is asked at, after BASE_URL/fault/chunks=N. */
static const char *protocol_path(const char *name) {
    if (strcmp(name, "ollama") == 0) return "";
    if (strcmp(name, "gemini") == 0) return "/v1beta";
    return "/v1";
}

static void protocol(const char *base, long n, const char *name) {
    char url[1024], req[256];
    snprintf(url, sizeof url, "%s/fault/chunks=%ld%s", base, n, protocol_path(name));
    AichatClient *client = client_for(url);
    snprintf(req, sizeof req, "{\"provider\":\"%s\",\"stream\":true,\"messages\":[]}", name);
    size_t chunks = 0;
    double t = now_s();
    run(client, req, count_chunk, &chunks);
    double dt = now_s() - t;
    if ((long)chunks != n) {
        fprintf(stderr, "%s: got %zu chunks of %ld\n", name, chunks, n);
        exit(1);
    }
    printf("chunks=%zu seconds=%.4f per_second=%.1f\n", chunks, dt, chunks / dt);
    aichat_client_free(client);
}

static int count_any_event(const AichatEvent *event, void *user_data) {
    if (event->kind == AICHAT_EVENT_TEXT || event->kind == AICHAT_EVENT_REASONING ||
        event->kind == AICHAT_EVENT_TOOL_ARGUMENTS)
        ++*(size_t *)user_data;
    return 0;
}

/* A pre-recorded stream from a neutral server (nginx): BASE_URL is the protocol's base URL,
   N the content chunks expected; "text" counts the text API's chunks, "events" the TEXT,
   REASONING and TOOL_ARGUMENTS events of the event API, "pull" the chunks pulled with
   aichat_stream_next. The stream is read PASSES times on
   one client (one connection) and the fastest pass is reported: on a shared machine a pass of
   a few tens of milliseconds is easily cut into by the scheduler, which the best of several
   filters out (the baseline, bench_simdjson, is measured the same way). */
/* A whole stream pulled with aichat_stream_next (blocking waits), counting its chunks. */
static AichatStatus pull_all(AichatClient *client, const char *req, size_t *chunks, AichatError **error) {
    AichatStream *s = aichat_client_stream_open(client, req, NULL, error);
    if (!s) return aichat_error_code(*error);
    AichatStatus status;
    for (;;) {
        AichatChunks c;
        status = aichat_stream_next(s, 1000, &c, error);
        if (status != AICHAT_OK) break;
        *chunks += c.count;
        if (c.finished) break;
    }
    aichat_stream_free(s);
    return status;
}

static void recorded(const char *name, const char *base, long n, const char *api, int passes) {
    AichatClient *client = client_for(base);
    char req[256];
    /* Gemini and Bedrock name the model in the path: the recorded file is the real model's.
       Bedrock takes a bearer key (an Amazon Bedrock API key) instead of SigV4 credentials. The
       Gemini stream (several words a chunk) is larger than the default max_response_bytes
       (64 MiB). */
    int bedrock = strcmp(name, "bedrock") == 0;
    const char *model = strcmp(name, "gemini") == 0 ? "gemini-2.5-flash"
                        : bedrock                   ? "anthropic.claude-sonnet-4-20250514-v1:0"
                                                    : "m";
    snprintf(req, sizeof req,
             "{\"provider\":\"%s\",\"model\":\"%s\",%s\"stream\":true,\"messages\":[],"
             "\"max_response_bytes\":1073741824}",
             name, model, bedrock ? "\"api_key\":\"x\"," : "");
    double best = 0, best_cpu = 0;
    size_t chunks = 0;
    for (int pass = 0; pass < passes; pass++) {
        chunks = 0;
        AichatError *error = NULL;
        double t = now_s(), c = cpu_s();
        AichatStatus status = strcmp(api, "events") == 0 ? aichat_client_create_completion_events(
                                                               client, req, count_any_event, &chunks, NULL, &error)
                              : strcmp(api, "pull") == 0 ? pull_all(client, req, &chunks, &error)
                                                         : aichat_client_create_completion(client, req, count_chunk,
                                                                                           &chunks, NULL, &error);
        double dt = now_s() - t, dc = cpu_s() - c;
        if (status != AICHAT_OK || (n > 0 && (long)chunks != n)) {
            fprintf(stderr, "%s: %s; got %zu chunks of %ld\n", name, error ? aichat_error_message(error) : "ok", chunks, n);
            exit(1);
        }
        if (pass == 0 || dt < best) best = dt;
        if (pass == 0 || dc < best_cpu) best_cpu = dc;
    }
    printf("chunks=%zu passes=%d seconds=%.4f per_second=%.1f cpu_seconds=%.4f per_cpu_second=%.1f\n", chunks, passes,
           best, chunks / best, best_cpu, chunks / best_cpu);
    aichat_client_free(client);
}

typedef struct {
    long long *latencies;
    size_t count, cap;
} Latencies;

static int stamp_chunk(const char *chunk, size_t len, void *user_data) {
    (void)len;
    long long received = wall_us();
    Latencies *l = user_data;
    if (l->count < l->cap) l->latencies[l->count++] = received - atoll(chunk);
    return 0;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void latency(const char *base, long n) {
    char url[1024];
    snprintf(url, sizeof url, "%s/fault/chunks=%ld,interval=1,stamp/v1", base, n);
    AichatClient *client = client_for(url);
    Latencies l = {calloc((size_t)n, sizeof(long long)), 0, (size_t)n};
    run(client, "{\"provider\":\"openai\",\"stream\":true,\"messages\":[]}", stamp_chunk, &l);
    qsort(l.latencies, l.count, sizeof(long long), cmp_ll);
    printf("chunks=%zu p50_us=%lld p99_us=%lld max_us=%lld\n", l.count, l.latencies[l.count / 2],
           l.latencies[l.count * 99 / 100], l.latencies[l.count - 1]);
    free(l.latencies);
    aichat_client_free(client);
}

typedef struct {
    const AichatClient *client;
    long n;
} Worker;

static void *worker(void *arg) {
    Worker *w = arg;
    size_t chunks = 0;
    for (long i = 0; i < w->n; i++) run(w->client, SHORT_PROMPT, count_chunk, &chunks);
    return NULL;
}

static void concurrency(const char *base, int threads, long n) {
    char url[1024];
    snprintf(url, sizeof url, "%s/fault/size=200", base);
    AichatClient *client = client_for(url);
    pthread_t tids[256];
    Worker w = {client, n};
    double t = now_s();
    for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, worker, &w);
    for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
    double dt = now_s() - t;
    printf("threads=%d requests=%ld errors=0 seconds=%.4f per_second=%.1f\n", threads, threads * n, dt,
           threads * n / dt);
    aichat_client_free(client);
}

static int discard(const char *chunk, size_t len, void *user_data) {
    (void)chunk;
    *(size_t *)user_data += len;
    return 0;
}

static void memory(const char *base, long bytes) {
    char url[1024];
    long chunks = bytes / 1000;
    snprintf(url, sizeof url, "%s/fault/chunks=%ld,chunk-size=1000/v1", base, chunks);
    char options[1200];
    snprintf(options, sizeof options,
             "{\"base_url\":\"%s\",\"proxy\":\"\",\"max_retries\":0,\"max_response_bytes\":%ld}", url, bytes * 4);
    AichatClient *client = aichat_client_new(options, NULL);
    size_t received = 0;
    run(client, "{\"provider\":\"openai\",\"stream\":true,\"messages\":[]}", discard, &received);
    /* VmHWM, this program's peak resident set: getrusage's ru_maxrss would include the peak of
     * the process that forked it before exec. */
    printf("bytes=%zu peak_rss_kb=%ld\n", received, proc_status_kb("VmHWM"));
    aichat_client_free(client);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_aichat MODE BASE_URL ARGS...\n");
        return 2;
    }
    const char *mode = argv[1], *base = argv[2];
    if (strcmp(mode, "overhead") == 0) {
        if (argc == 5) ca_file = argv[4];
        overhead(base, atol(argv[3]));
    }
    else if (strcmp(mode, "stream") == 0) stream(base, atol(argv[3]));
    else if (strcmp(mode, "events") == 0) events(base, atol(argv[3]));
    else if (strcmp(mode, "pull") == 0) pull(base, atol(argv[3]));
    else if (strcmp(mode, "recorded") == 0 && (argc == 6 || argc == 7))
        recorded(argv[2], argv[3], atol(argv[4]), argv[5], argc == 7 ? atoi(argv[6]) : 1);
    else if (strcmp(mode, "protocol") == 0 && argc == 5) protocol(base, atol(argv[3]), argv[4]);
    else if (strcmp(mode, "latency") == 0) latency(base, atol(argv[3]));
    else if (strcmp(mode, "concurrency") == 0 && argc == 5) concurrency(base, atoi(argv[3]), atol(argv[4]));
    else if (strcmp(mode, "memory") == 0) memory(base, atol(argv[3]));
    else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
