/* The README's event callback (example `c-events`) in the tool round trip its comment outlines:
   the helpers it calls are defined here, main makes the two requests and checks what the
   callback gathered. Prints the final answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aichat.h"

typedef struct {
    int calls;
    char id[128], name[128], arguments[512], message[2048];
} Turn;

static void append(char *to, size_t size, const char *text, size_t len) {
    size_t used = strlen(to);
    if (used + len >= size) {
        fputs("c-events: a text longer than this test expects\n", stderr);
        exit(1);
    }
    memcpy(to + used, text, len);
    to[used + len] = '\0';
}
static void remember_call(Turn *t, uint32_t index, const char *id, const char *name) {
    if (index != 0) exit(1); /* the test server makes one call */
    t->calls++;
    snprintf(t->id, sizeof t->id, "%s", id);
    snprintf(t->name, sizeof t->name, "%s", name);
}
static void append_arguments(Turn *t, uint32_t index, const char *text, size_t len) {
    if (index != 0) exit(1);
    append(t->arguments, sizeof t->arguments, text, len);
}
static void keep_message(Turn *t, const char *text, size_t len) {
    t->message[0] = '\0';
    append(t->message, sizeof t->message, text, len);
}

@README@

#define TOOLS "[{\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"parameters\":{\"type\":\"object\"}}}]"
#define USER "{\"role\":\"user\",\"content\":\"What time is it?\"}"

static void run(AichatClient *client, const char *request, Turn *turn) {
    AichatError *error = NULL;
    AichatStatus status = aichat_client_create_completion_events(client, request, on_event, turn, NULL, &error);
    if (status != AICHAT_OK) {
        fprintf(stderr, "c-events: %s: %s\n", aichat_status_name((int)status), aichat_error_message(error));
        exit(1);
    }
}

int main(void) {
    const char *base = getenv("AICHAT_TEST_BASE_URL");
    AichatClient *client = aichat_client_new(NULL, NULL);
    if (base == NULL || client == NULL) return 1;
    static char request[4096];
    Turn first = {0}, second = {0};
    snprintf(request, sizeof request,
             "{\"provider\":\"openai\",\"base_url\":\"%s/v1\",\"stream\":true,\"tools\":" TOOLS ",\"messages\":[" USER "]}", base);
    run(client, request, &first);
    if (first.calls != 1 || strcmp(first.name, "get_time") != 0 || first.arguments[0] != '{' ||
        strstr(first.message, "\"tool_calls\":[") == NULL) {
        fprintf(stderr, "c-events: first turn: %d calls, %s(%s), message %s\n", first.calls, first.name, first.arguments, first.message);
        return 1;
    }
    snprintf(request, sizeof request,
             "{\"provider\":\"openai\",\"base_url\":\"%s/v1\",\"stream\":true,\"tools\":" TOOLS ",\"messages\":[" USER
             ",%s,{\"role\":\"tool\",\"tool_call_id\":\"%s\",\"content\":\"12:00\"}]}",
             base, first.message, first.id);
    run(client, request, &second);
    putchar('\n');
    aichat_client_free(client);
    return second.calls != 0 || strstr(second.message, "The tool returned: 12:00") == NULL;
}
