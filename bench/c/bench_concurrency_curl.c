/*
 * The baseline of the concurrency benchmark: the same N streams as bench_concurrency_aichat.c
 * on libcurl's multi interface, one thread, as a careful engineer would write them by hand
 * (curl_multi_poll, a write callback that cuts SSE lines and reads each chunk's content).
 *
 *   bench_concurrency_curl stream BASE_URL N
 *   bench_concurrency_curl silent BASE_URL N
 */
#include "concurrency.h"

#include <curl/curl.h>

static const char BODY[] =
    "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";

typedef struct {
    char line[4096];
    size_t len;
    size_t chunks;
    Delays *delays;
} Stream;

/* One SSE line: a `data:` line's `"content":"..."` is a chunk (its text is the stamp). */
static void on_line(Stream *s) {
    static const char key[] = "\"content\":\"";
    if (s->len < 6 || memcmp(s->line, "data: ", 6) != 0) return;
    s->line[s->len] = 0;
    char *at = strstr(s->line, key);
    if (!at) return;
    at += sizeof key - 1;
    char *end = strchr(at, '"');
    if (!end || end == at) return;
    delay_add(s->delays, at, (size_t)(end - at));
    s->chunks++;
}

static size_t on_data(char *data, size_t size, size_t n, void *user_data) {
    Stream *s = user_data;
    for (size_t i = 0; i < size * n; i++) {
        if (data[i] == '\n') {
            on_line(s);
            s->len = 0;
        } else if (s->len < sizeof s->line - 1) {
            s->line[s->len++] = data[i];
        }
    }
    return size * n;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: bench_concurrency_curl stream|silent BASE_URL N\n");
        return 2;
    }
    raise_fd_limit();
    int silent = strcmp(argv[1], "silent") == 0;
    size_t n = strtoul(argv[3], NULL, 10);
    char url[1024];
    snprintf(url, sizeof url, "%s%s/chat/completions", argv[2], silent ? SILENT_PATH : STREAM_PATH);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    Delays delays = {0};

    /* The same warm-up as the aichat side: one stream to completion, in the baseline. */
    {
        char warm[1024];
        snprintf(warm, sizeof warm, "%s/v1/chat/completions", argv[2]);
        Stream ws = {.delays = &(Delays){0}};
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, warm);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, BODY);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &ws);
        curl_easy_perform(h);
        curl_easy_cleanup(h);
    }
    Cost cost = cost_baseline();

    Stream *streams = calloc(n, sizeof *streams);
    CURL **handles = calloc(n, sizeof *handles);
    for (size_t i = 0; i < n; i++) {
        streams[i].delays = &delays;
        CURL *h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, BODY);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &streams[i]);
        curl_easy_setopt(h, CURLOPT_PRIVATE, &streams[i]);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_multi_add_handle(multi, h);
        handles[i] = h;
    }

    int running = 1;
    if (silent) {
        double cpu0 = cpu_s(), t0 = wall_us();
        while (wall_us() - t0 < SILENT_SECONDS * 1e6) {
            curl_multi_perform(multi, &running);
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
        }
        double cpu = cpu_s() - cpu0, wall = (wall_us() - t0) / 1e6;
        printf("n=%zu threads=%ld cpu_percent=%.2f\n", n, count_entries("/proc/self/task"), 100.0 * cpu / wall);
        return 0;
    }

    size_t completed = 0, errors = 0;
    size_t finished = 0;
    while (running) {
        curl_multi_perform(multi, &running);
        int left;
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            Stream *s;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            finished++;
            if (msg->data.result == CURLE_OK && s->chunks == CHUNKS_PER_STREAM) completed++;
            else errors++;
        }
        /* While every stream is open and has its first chunk: what they cost. */
        if (finished == 0) {
            size_t first = 0;
            for (size_t i = 0; i < n; i++) first += streams[i].chunks > 0;
            if (first == n) cost_sample(&cost);
        }
        if (running) curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    print_stream_figures(n, completed, errors, &cost, &delays);
    for (size_t i = 0; i < n; i++) {
        curl_multi_remove_handle(multi, handles[i]);
        curl_easy_cleanup(handles[i]);
    }
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    return 0;
}
