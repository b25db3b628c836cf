/*
 * poll: one thread drives several completions at once with poll(2), printing each piece of
 * text as it arrives, tagged with its stream's number.
 *
 *   poll BASE_URL [COUNT]
 *
 * BASE_URL is an OpenAI-compatible endpoint (e.g. http://127.0.0.1:8080/v1); COUNT streams
 * (default 8, at most 64) are opened on it at once. No thread waits on any stream: each stream's
 * descriptor (aichat_stream_fd) is readable exactly while aichat_stream_next has something to
 * return, so the loop calls it with wait_ms 0 only for the streams poll reports. The same
 * descriptor works with epoll, libuv, GLib or any other event loop.
 *
 * Exit status: 0 when every stream finished, 1 when one failed (its status and message on
 * stderr), 2 on bad usage.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aichat.h"

#define MAX_STREAMS 64

static void report(const char *what, AichatError *error) {
    fprintf(stderr, "poll: %s: %s: %s\n", what, aichat_status_name(aichat_error_code(error)),
            aichat_error_message(error));
    aichat_error_free(error);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fputs("usage: poll BASE_URL [COUNT]\n", stderr);
        return 2;
    }
    int count = argc == 3 ? atoi(argv[2]) : 8;
    if (count < 1 || count > MAX_STREAMS) {
        fprintf(stderr, "poll: COUNT is 1 to %d\n", MAX_STREAMS);
        return 2;
    }

    AichatError *error = NULL;
    AichatClient *client = aichat_client_new(NULL, &error);
    if (!client) {
        report("client", error);
        return 1;
    }

    AichatStream *streams[MAX_STREAMS] = {0};
    struct pollfd fds[MAX_STREAMS];
    size_t chunks[MAX_STREAMS] = {0};
    int open = 0, failed = 0;
    for (int i = 0; i < count; i++) {
        /* The request JSON is built with snprintf: the base URL is the only variable part, and
           a real program would use a JSON library. */
        char request[1024];
        int n = snprintf(request, sizeof request,
                         "{\"provider\":\"openai\",\"base_url\":\"%s\",\"stream\":true,"
                         "\"messages\":[{\"role\":\"user\",\"content\":\"Stream %d, say something\"}]}",
                         argv[1], i);
        if (n < 0 || (size_t)n >= sizeof request) {
            fputs("poll: BASE_URL is too long\n", stderr);
            failed = 1;
            break;
        }
        streams[i] = aichat_client_stream_open(client, request, NULL, &error);
        if (!streams[i]) {
            report("open", error);
            failed = 1;
            break;
        }
        int fd = aichat_stream_fd(streams[i], &error);
        if (fd < 0) {
            report("descriptor", error);
            failed = 1;
            break;
        }
        fds[i] = (struct pollfd){.fd = fd, .events = POLLIN};
        open++;
    }

    while (!failed && open > 0) {
        if (poll(fds, (nfds_t)count, 30000) <= 0) {
            fputs("poll: no stream made progress in 30 s\n", stderr);
            failed = 1;
            break;
        }
        for (int i = 0; i < count; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & POLLIN)) continue;
            AichatChunks batch;
            AichatStatus status = aichat_stream_next(streams[i], 0, &batch, &error);
            if (status != AICHAT_OK) {
                char what[32];
                snprintf(what, sizeof what, "stream %d", i);
                report(what, error);
                failed = 1;
                break;
            }
            size_t start = 0;
            for (size_t c = 0; c < batch.count; c++) {
                printf("[%d] %.*s\n", i, (int)(batch.ends[c] - start), batch.text + start);
                start = batch.ends[c];
            }
            chunks[i] += batch.count;
            if (batch.finished) {
                printf("[%d] finished after %zu chunks\n", i, chunks[i]);
                fds[i].fd = -1; /* poll skips negative descriptors */
                open--;
            }
        }
    }

    for (int i = 0; i < count; i++) aichat_stream_free(streams[i]); /* NULL is accepted */
    aichat_client_free(client);
    return failed;
}
