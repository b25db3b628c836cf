/*
 * N concurrent streams on one client, one caller thread polling every stream's descriptor with
 * epoll, as an event loop would (bench/run.py compares it with bench_concurrency_curl.c, the
 * same workload on libcurl's multi interface).
 *
 *   bench_concurrency_aichat stream BASE_URL N   N streams of 10 chunks one second apart, each
 *       chunk stamped with its server write time: prints completed streams, the process's
 *       threads, memory and descriptors per stream while all are open, and the delays from the
 *       server's write to this loop seeing the chunk
 *   bench_concurrency_aichat silent BASE_URL N   N streams whose server never answers, for 10 s:
 *       prints the process's CPU use meanwhile (percent of one core)
 */
#include "concurrency.h"

#include <aichat.h>
#include <sys/epoll.h>

static char *request_json(const char *base, const char *path) {
    static const char fmt[] = "{\"provider\":\"openai\",\"model\":\"m\",\"base_url\":\"%s%s\",\"proxy\":\"\","
                              "\"stream\":true,\"max_retries\":0,\"timeout_ms\":600000,\"idle_timeout_ms\":60000,"
                              "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";
    size_t n = strlen(fmt) + strlen(base) + strlen(path) + 1;
    char *json = malloc(n);
    snprintf(json, n, fmt, base, path);
    return json;
}

static void fail(const char *what, AichatError *error) {
    fprintf(stderr, "%s: %s\n", what, error ? aichat_error_message(error) : "?");
    exit(1);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: bench_concurrency_aichat stream|silent BASE_URL N\n");
        return 2;
    }
    raise_fd_limit();
    int silent = strcmp(argv[1], "silent") == 0;
    size_t n = strtoul(argv[3], NULL, 10);
    char *json = request_json(argv[2], silent ? SILENT_PATH : STREAM_PATH);
    AichatError *error = NULL;
    AichatClient *client = aichat_client_new(NULL, &error);
    if (!client) fail("client", error);

    /* A warm-up stream, so the I/O thread and one-time allocations are in the baseline. */
    char *warm = request_json(argv[2], "/v1");
    AichatStream *w = aichat_client_stream_open(client, warm, NULL, &error);
    if (!w) fail("open", error);
    for (;;) {
        AichatChunks c;
        if (aichat_stream_next(w, 1000, &c, &error) != AICHAT_OK) fail("warm-up", error);
        if (c.finished) break;
    }
    aichat_stream_free(w);
    free(warm);
    Cost cost = cost_baseline();

    int ep = epoll_create1(EPOLL_CLOEXEC);
    AichatStream **streams = calloc(n, sizeof *streams);
    size_t *got = calloc(n, sizeof *got);
    for (size_t i = 0; i < n; i++) {
        streams[i] = aichat_client_stream_open(client, json, NULL, &error);
        if (!streams[i]) fail("open", error);
        int fd = aichat_stream_fd(streams[i], &error);
        if (fd < 0) fail("fd", error);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            perror("epoll_ctl");
            return 1;
        }
    }

    if (silent) {
        double cpu0 = cpu_s(), t0 = wall_us();
        struct epoll_event events[64];
        while (wall_us() - t0 < SILENT_SECONDS * 1e6) epoll_wait(ep, events, 64, 1000);
        double cpu = cpu_s() - cpu0, wall = (wall_us() - t0) / 1e6;
        printf("n=%zu threads=%ld cpu_percent=%.2f\n", n, count_entries("/proc/self/task"), 100.0 * cpu / wall);
        for (size_t i = 0; i < n; i++) aichat_stream_free(streams[i]);
        aichat_client_free(client);
        return 0;
    }

    Delays delays = {0};
    size_t open = n, completed = 0, errors = 0, first_chunk = 0;
    struct epoll_event events[256];
    while (open > 0) {
        int k = epoll_wait(ep, events, 256, 5000);
        if (k <= 0) {
            fprintf(stderr, "no stream moved for 5 s with %zu open\n", open);
            break;
        }
        for (int e = 0; e < k; e++) {
            size_t i = events[e].data.u64;
            if (!streams[i]) continue;
            AichatChunks c;
            AichatStatus status = aichat_stream_next(streams[i], 0, &c, &error);
            if (status != AICHAT_OK) {
                aichat_error_free(error);
                error = NULL;
                errors++;
            } else {
                size_t start = 0;
                for (size_t j = 0; j < c.count; j++) {
                    delay_add(&delays, c.text + start, c.ends[j] - start);
                    start = c.ends[j];
                }
                if (got[i] == 0 && c.count > 0) first_chunk++;
                got[i] += c.count;
            }
            if (status != AICHAT_OK || c.finished) {
                if (status == AICHAT_OK && got[i] == CHUNKS_PER_STREAM) completed++;
                aichat_stream_free(streams[i]);
                streams[i] = NULL;
                open--;
            }
        }
        /* While every stream is open and has its first chunk: what they cost. */
        if (first_chunk == n && open == n) cost_sample(&cost);
    }
    print_stream_figures(n, completed, errors, &cost, &delays);
    aichat_client_free(client);
    free(json);
    return 0;
}
