/*
 * chat: send a conversation to a chat-completion server and print the answer as it streams.
 *
 *   chat [--base-url URL] [--provider NAME] [--model NAME] [--system TEXT] [--no-stream] [MESSAGE...]
 *
 * The words of MESSAGE form one user message (default: a greeting). Options fall back to the
 * environment: AICHAT_BASE_URL, AICHAT_PROVIDER, AICHAT_MODEL; unset ones use the library's
 * defaults. Exit status: 0 on success, 1 on a failed call (status and message on stderr),
 * 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aichat.h"

/* A growable string, enough to build the request JSON. */
typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static void buf_add(Buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data) {
            fputs("chat: out of memory\n", stderr);
            exit(1);
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_str(Buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* Appends `s` as a JSON string literal; bytes >= 0x80 pass through (the library checks UTF-8). */
static void buf_json_string(Buf *b, const char *s) {
    buf_str(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            buf_add(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            buf_str(b, esc);
        } else {
            buf_add(b, (const char *)&c, 1);
        }
    }
    buf_str(b, "\"");
}

static int print_chunk(const char *chunk, size_t len, void *user_data) {
    (void)user_data;
    fwrite(chunk, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static void usage(void) {
    fputs("usage: chat [--base-url URL] [--provider NAME] [--model NAME] [--system TEXT] [--no-stream] [MESSAGE...]\n",
          stderr);
}

int main(int argc, char **argv) {
    const char *base_url = getenv("AICHAT_BASE_URL");
    const char *provider = getenv("AICHAT_PROVIDER");
    const char *model = getenv("AICHAT_MODEL");
    const char *system = NULL;
    int stream = 1;
    Buf message = {0};

    for (int i = 1; i < argc; i++) {
        const char **target = NULL;
        if (strcmp(argv[i], "--base-url") == 0) target = &base_url;
        else if (strcmp(argv[i], "--provider") == 0) target = &provider;
        else if (strcmp(argv[i], "--model") == 0) target = &model;
        else if (strcmp(argv[i], "--system") == 0) target = &system;
        else if (strcmp(argv[i], "--no-stream") == 0) stream = 0;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 0;
        } else {
            if (message.len) buf_str(&message, " ");
            buf_str(&message, argv[i]);
            continue;
        }
        if (target) {
            if (++i == argc) {
                usage();
                return 2;
            }
            *target = argv[i];
        }
    }

    Buf req = {0};
    buf_str(&req, "{\"messages\":[");
    if (system) {
        buf_str(&req, "{\"role\":\"system\",\"content\":");
        buf_json_string(&req, system);
        buf_str(&req, "},");
    }
    buf_str(&req, "{\"role\":\"user\",\"content\":");
    buf_json_string(&req, message.len ? message.data : "Hello! Who are you?");
    buf_str(&req, "}]");
    buf_str(&req, stream ? ",\"stream\":true" : ",\"stream\":false");
    if (base_url && *base_url) {
        buf_str(&req, ",\"base_url\":");
        buf_json_string(&req, base_url);
    }
    if (provider && *provider) {
        buf_str(&req, ",\"provider\":");
        buf_json_string(&req, provider);
    }
    if (model && *model) {
        buf_str(&req, ",\"model\":");
        buf_json_string(&req, model);
    }
    buf_str(&req, "}");

    AichatError *error = NULL;
    AichatStatus status = aichat_create_completion(req.data, print_chunk, NULL, &error);
    putchar('\n');
    int rc = 0;
    if (status != AICHAT_OK) {
        fprintf(stderr, "chat: %s: %s\n", aichat_status_name((int)status), aichat_error_message(error));
        rc = 1;
    }
    aichat_error_free(error);
    free(req.data);
    free(message.data);
    return rc;
}
