/*
 * libcurl baselines for the benchmark harness (bench/run.py), the practical floor of an
 * HTTP/1.1 client: one easy handle reused, so one kept-alive connection.
 *
 *   bench_curl overhead BASE_URL N   N sequential aichat POSTs, same headers and body as aichat's
 *   bench_curl stream   BASE_URL N   one openai stream of N chunks, counting "data: " lines only
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t sink(char *data, size_t size, size_t n, void *user_data) {
    (void)data;
    *(size_t *)user_data += size * n;
    return size * n;
}

/* Counts "data: " at line starts across writes (a line may be split between two). */
typedef struct {
    size_t events;
    int at_line_start;
    size_t matched; /* bytes of "data: " matched so far at this line's start */
} Counter;

static size_t count_events(char *data, size_t size, size_t n, void *user_data) {
    Counter *c = user_data;
    static const char prefix[] = "data: ";
    for (size_t i = 0; i < size * n; i++) {
        char ch = data[i];
        if (ch == '\n') {
            c->at_line_start = 1;
            c->matched = 0;
        } else if (c->at_line_start) {
            if (ch == prefix[c->matched]) {
                if (++c->matched == sizeof prefix - 1) {
                    c->events++;
                    c->at_line_start = 0;
                }
            } else {
                c->at_line_start = 0;
            }
        }
    }
    return size * n;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: bench_curl overhead|stream BASE_URL N\n");
        return 2;
    }
    long n = atol(argv[3]);
    char url[1024];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    if (strcmp(argv[1], "overhead") == 0) {
        snprintf(url, sizeof url, "%s/fault/size=200/api/text", argv[2]);
        const char *h[] = {
            "authority: chat-gpt.org", "accept: */*", "cache-control: no-cache", "content-type: application/json",
            "origin: https://chat-gpt.org", "pragma: no-cache", "referer: https://chat-gpt.org/chat",
            "sec-ch-ua-mobile: ?0", "sec-ch-ua-platform: \"macOS\"", "sec-fetch-dest: empty", "sec-fetch-mode: cors",
            "sec-fetch-site: same-origin",
            "user-agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/113.0.0.0 Safari/537.36",
        };
        for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) headers = curl_slist_append(headers, h[i]);
        size_t received = 0;
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
                         "{\"message\":\"user: Hello, how are you?\\nassistant:\",\"temperature\":1,"
                         "\"presence_penalty\":0,\"top_p\":1,\"frequency_penalty\":0}");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);
        curl_easy_perform(curl); /* warm the connection */
        double t = now_s();
        for (long i = 0; i < n; i++) {
            CURLcode rc = curl_easy_perform(curl);
            long status = 0;
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
            if (rc != CURLE_OK || status != 200) {
                fprintf(stderr, "curl: %s (HTTP %ld)\n", curl_easy_strerror(rc), status);
                return 1;
            }
        }
        double dt = now_s() - t;
        printf("requests=%ld seconds=%.4f per_second=%.1f\n", n, dt, n / dt);
    } else {
        snprintf(url, sizeof url, "%s/fault/chunks=%ld/v1/chat/completions", argv[2], n);
        headers = curl_slist_append(headers, "content-type: application/json");
        Counter c = {0, 1, 0};
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "{\"stream\":true,\"messages\":[]}");
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, count_events);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &c);
        double t = now_s();
        if (curl_easy_perform(curl) != CURLE_OK) return 1;
        double dt = now_s() - t;
        printf("events=%zu seconds=%.4f per_second=%.1f\n", c.events, dt, c.events / dt);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return 0;
}
