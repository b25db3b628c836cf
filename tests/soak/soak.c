/*
 * Load and leak check (`make soak`, not part of `make test`), through the C ABI against the
 * local test server:
 *   1. 10,000 create / cancel / free cycles (client, token, a stream on a silent server):
 *      open file descriptors and RSS must not grow.
 *   2. 64 threads stream from one shared client for SOAK_SECONDS (default 60): no error, and
 *      afterwards file descriptors and RSS back to where a warm-up left them.
 *
 *   soak BASE_URL
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aichat.h"
#include "proc_status.h"

static char base[512];
static atomic_long errors, streams, chunks_total;

static long count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    long n = 0;
    while (d && readdir(d)) n++;
    if (d) closedir(d);
    return n;
}

static long rss_kb(void) { return proc_status_kb("VmRSS"); }

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cycles(long n) {
    char req[1024];
    snprintf(req, sizeof req, "{\"messages\":[],\"base_url\":\"%s/fault/silence\",\"proxy\":\"\"}", base);
    for (long i = 0; i < n; i++) {
        AichatClient *client = aichat_client_new(NULL, NULL);
        AichatCancel *cancel = aichat_cancel_new();
        AichatStream *stream = aichat_client_stream_open(client, req, cancel, NULL);
        if (!client || !cancel || !stream) return 1;
        aichat_cancel_trigger(cancel);
        AichatChunks chunks;
        AichatError *error = NULL;
        AichatStatus s = aichat_stream_next(stream, 1000, &chunks, &error);
        aichat_error_free(error);
        aichat_stream_free(stream);
        aichat_cancel_free(cancel);
        aichat_client_free(client);
        if (s != AICHAT_ERROR_CANCELLED) {
            fprintf(stderr, "cycle %ld: %s\n", i, aichat_status_name((int)s));
            return 1;
        }
    }
    return 0;
}

static int count_chunk(const char *chunk, size_t len, void *user_data) {
    (void)chunk;
    (void)len;
    ++*(long *)user_data;
    return 0;
}

typedef struct {
    const AichatClient *client;
    double until;
} Load;

static void *streamer(void *arg) {
    Load *load = arg;
    char req[1024];
    snprintf(req, sizeof req,
             "{\"provider\":\"openai\",\"stream\":true,\"messages\":[],\"base_url\":\"%s/fault/chunks=200/v1\"}", base);
    while (now_s() < load->until) {
        long n = 0;
        AichatError *error = NULL;
        AichatStatus s = aichat_client_create_completion(load->client, req, count_chunk, &n, NULL, &error);
        if (s != AICHAT_OK || n != 200) {
            fprintf(stderr, "stream: %s %s (%ld chunks)\n", aichat_status_name((int)s), aichat_error_message(error), n);
            atomic_fetch_add(&errors, 1);
        }
        aichat_error_free(error);
        atomic_fetch_add(&streams, 1);
        atomic_fetch_add(&chunks_total, n);
    }
    return NULL;
}

static void run_load(const AichatClient *client, int threads, double seconds) {
    pthread_t tids[64];
    Load load = {client, now_s() + seconds};
    for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, streamer, &load);
    for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: soak BASE_URL\n");
        return 2;
    }
    snprintf(base, sizeof base, "%s", argv[1]);
    double seconds = getenv("SOAK_SECONDS") ? atof(getenv("SOAK_SECONDS")) : 60;
    int failed = 0; /* checks failed, of 2 */

    /* 1. create / cancel / free cycles */
    cycles(200); /* warm-up: the allocator's arenas, the thread stacks' first use */
    sleep_ms(300);
    long fds0 = count_fds(), rss0 = rss_kb();
    double t = now_s();
    int cycles_failed = cycles(10000);
    sleep_ms(300); /* the cancelled requests' threads end within milliseconds */
    long fds1 = count_fds(), rss1 = rss_kb();
    printf("10,000 create/cancel/free cycles in %.1f s: fds %ld -> %ld, RSS %ld -> %ld KiB\n", now_s() - t, fds0, fds1,
           rss0, rss1);
    if (cycles_failed || fds1 > fds0 || rss1 > rss0 + 4096) {
        printf("FAIL: growth after the cycles\n");
        failed++;
    }

    /* 2. 64 concurrent streams on one client */
    AichatClient *client = aichat_client_new("{\"proxy\":\"\",\"max_retries\":0}", NULL);
    run_load(client, 64, 2); /* warm-up: pool and per-thread allocations at full concurrency */
    sleep_ms(300);
    long fds2 = count_fds(), rss2 = rss_kb();
    atomic_store(&streams, 0);
    atomic_store(&chunks_total, 0);
    /* Two halves with a quiet moment between: growth in the second half would be a leak (the
     * first may still be filling allocator arenas). */
    run_load(client, 64, seconds / 2);
    sleep_ms(300);
    long rss_half = rss_kb();
    run_load(client, 64, seconds / 2);
    sleep_ms(300);
    long fds3 = count_fds(), rss3 = rss_kb();
    printf("64 concurrent streams for %.0f s: %ld streams, %ld chunks, %ld errors; fds %ld -> %ld, "
           "RSS %ld -> %ld (half-way) -> %ld KiB\n",
           seconds, atomic_load(&streams), atomic_load(&chunks_total), atomic_load(&errors), fds2, fds3, rss2, rss_half,
           rss3);
    if (atomic_load(&errors) != 0 || fds3 > fds2 || rss3 > rss2 + 8192 || rss3 > rss_half + 2048) {
        printf("FAIL: errors or growth under load\n");
        failed++;
    }
    aichat_client_free(client);
    printf("%d passed, %d failed\n", 2 - failed, failed);
    return failed;
}
