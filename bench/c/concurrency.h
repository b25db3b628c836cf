/*
 * What the two concurrency benchmarks (bench_concurrency_aichat.c, bench_concurrency_curl.c)
 * share: the process's threads, memory and descriptors, the wall clock in microseconds, the
 * delays from each chunk's server stamp, and the output line bench/run.py reads.
 */
#ifndef AICHAT_BENCH_CONCURRENCY_H
#define AICHAT_BENCH_CONCURRENCY_H

#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

/* Entries of a /proc/self directory (threads: task, descriptors: fd). */
static inline long count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - (strcmp(dir, "/proc/self/fd") == 0); /* opendir's own */
}

static inline long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

static inline double wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static inline void raise_fd_limit(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

/* Delays in milliseconds, grown as chunks arrive. */
typedef struct {
    double *ms;
    size_t len, cap;
} Delays;

static inline void delay_add(Delays *d, const char *stamp, size_t len) {
    char buf[32];
    if (len == 0 || len >= sizeof buf) return;
    memcpy(buf, stamp, len);
    buf[len] = 0;
    char *end;
    double at = strtod(buf, &end);
    if (end == buf) return;
    if (d->len == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 1024;
        d->ms = realloc(d->ms, d->cap * sizeof *d->ms);
        if (!d->ms) abort();
    }
    d->ms[d->len++] = (wall_us() - at) / 1000.0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double percentile(Delays *d, double p) {
    if (d->len == 0) return -1;
    qsort(d->ms, d->len, sizeof *d->ms, cmp_double);
    size_t i = (size_t)(p * (d->len - 1));
    return d->ms[i];
}

/* What the open streams cost the process at most: its threads, descriptors and memory, against
   a baseline taken before they were opened. */
typedef struct {
    long threads0, fds0, rss0;
    long threads, fds, rss;
    double sampled; /* when last sampled (wall_us) */
} Cost;

static inline Cost cost_baseline(void) {
    return (Cost){.threads0 = count_entries("/proc/self/task"), .fds0 = count_entries("/proc/self/fd"),
                  .rss0 = rss_kb()};
}

/* Samples the process, at most twice a second: reading /proc is slow with thousands of
   descriptors. */
static inline void cost_sample(Cost *c) {
    if (wall_us() - c->sampled <= 500e3) return;
    c->sampled = wall_us();
    long t = count_entries("/proc/self/task"), f = count_entries("/proc/self/fd"), r = rss_kb();
    c->threads = t > c->threads ? t : c->threads;
    c->fds = f > c->fds ? f : c->fds;
    c->rss = r > c->rss ? r : c->rss;
}

/* The line bench/run.py reads for a `stream` run. */
static inline void print_stream_figures(size_t n, size_t completed, size_t errors, const Cost *c, Delays *d) {
    printf("n=%zu completed=%zu errors=%zu threads=%ld threads_added=%ld fds_per_stream=%.2f kb_per_stream=%.1f "
           "p50_ms=%.2f p99_ms=%.2f\n",
           n, completed, errors, c->threads, c->threads - c->threads0, (double)(c->fds - c->fds0) / n,
           (double)(c->rss - c->rss0) / n, percentile(d, 0.5), percentile(d, 0.99));
}

/* The request every stream sends: an openai stream of 10 stamped chunks, one a second. */
/* The head comes 2 s after the request, so every stream is open (and polled) before any
 * chunk is written: the delays then measure the engine, not how long opening N streams took. */
#define STREAM_PATH "/fault/stamp,delay=2000,interval=1000,chunks=10/v1"
#define SILENT_PATH "/fault/silence/v1"
#define CHUNKS_PER_STREAM 10
#define SILENT_SECONDS 10

#endif
