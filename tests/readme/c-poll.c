/* The README's poll loop (example `c-poll`): eight streams opened here, then the block run as the
   body of a loop until each has ended. The block's calls to aichat_stream_next go through
   next_and_keep, which also keeps what each stream returned, so that main can check it. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aichat.h"

#define STREAMS 8
static AichatStream *streams[STREAMS];
static char texts[STREAMS][256];
static int finished[STREAMS];

static AichatStatus next_and_keep(AichatStream *stream, uint32_t wait_ms, AichatChunks *batch, AichatError **error) {
    AichatStatus status = aichat_stream_next(stream, wait_ms, batch, error);
    for (int i = 0; i < STREAMS; i++) {
        if (streams[i] != stream) continue;
        if (status != AICHAT_OK) {
            fprintf(stderr, "stream %d: %s: %s\n", i, aichat_status_name((int)status), aichat_error_message(*error));
            exit(1);
        }
        if (batch->count > 0) strncat(texts[i], batch->text, sizeof texts[i] - strlen(texts[i]) - 1);
        if (batch->finished) finished[i] = 1;
    }
    return status;
}
#define aichat_stream_next next_and_keep

static int all_finished(void) {
    for (int i = 0; i < STREAMS; i++)
        if (!finished[i]) return 0;
    return 1;
}

int main(void) {
    const char *base = getenv("AICHAT_TEST_BASE_URL");
    AichatError *error = NULL;
    AichatClient *client = aichat_client_new(NULL, &error);
    if (base == NULL || client == NULL) return 1;
    for (int i = 0; i < STREAMS; i++) {
        char request[512];
        snprintf(request, sizeof request,
                 "{\"provider\":\"openai\",\"base_url\":\"%s/fault/interval=10/v1\",\"stream\":true,"
                 "\"messages\":[{\"role\":\"user\",\"content\":\"stream number %d\"}]}",
                 base, i);
        streams[i] = aichat_client_stream_open(client, request, NULL, &error);
        if (streams[i] == NULL) {
            fprintf(stderr, "open: %s\n", aichat_error_message(error));
            return 1;
        }
    }
    AichatChunks batch;
    int rounds = 0;
    while (!all_finished() && rounds < 10000) {
        @README@
        rounds++;
    }
    int failed = 0;
    for (int i = 0; i < STREAMS; i++) {
        char want[64];
        snprintf(want, sizeof want, "You said: stream number %d", i);
        if (!finished[i] || strcmp(texts[i], want) != 0) {
            fprintf(stderr, "stream %d: %s \"%s\"\n", i, finished[i] ? "ended with" : "did not end, has", texts[i]);
            failed = 1;
        }
        aichat_stream_free(streams[i]);
    }
    aichat_error_free(error);
    aichat_client_free(client);
    if (!failed) printf("%d streams ended, each with its answer, in %d rounds of poll\n", STREAMS, rounds);
    return failed;
}
