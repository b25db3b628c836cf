/*
 * chat: send a conversation to a chat-completion server and print the answer as it streams.
 *
 *   chat [--base-url URL] [--provider NAME] [--model NAME] [--system TEXT] [--no-stream] [--tools]
 *        [MESSAGE...]
 *
 * The words of MESSAGE form one user message (default: a greeting). --provider is aichat (the
 * default), openai, anthropic or ollama. Options fall back to the
 * environment: AICHAT_BASE_URL, AICHAT_PROVIDER, AICHAT_MODEL; unset ones use the library's
 * defaults. Exit status: 0 on success, 1 on a failed call (status and message on stderr),
 * 2 on bad usage.
 *
 * It uses the event API: the answer's text goes to stdout as it arrives, and so do the
 * model's reasoning, its tool calls and the token usage, each marked. With --tools the model
 * is offered one tool, get_time (the current UTC time); when it calls it, chat runs it, sends
 * the assistant's message and the result back, and prints the final answer: a complete tool
 * round trip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* What one turn of the conversation produced, beyond what was printed. */
typedef struct {
    int last_kind;    /* the kind of the previous event, to mark where reasoning ends */
    Buf message;      /* the assistant's message (MESSAGE event), to send back */
    Buf tool_results; /* ",{"role":"tool",...}" for each call, to send back */
    int tool_calls;
} Turn;

/* The one tool this example offers: the current time in UTC. */
#define TOOLS                                                                                       \
    "[{\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"description\":\"The current date and " \
    "time in UTC\",\"parameters\":{\"type\":\"object\",\"properties\":{}}}}]"

static void run_tool(Turn *t, const char *id, const char *name) {
    char result[128];
    if (strcmp(name, "get_time") == 0) {
        time_t now = time(NULL);
        strftime(result, sizeof result, "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
    } else {
        snprintf(result, sizeof result, "error: no tool named %.80s", name);
    }
    printf("[tool %s -> %s]\n", name, result);
    buf_str(&t->tool_results, ",{\"role\":\"tool\",\"tool_call_id\":");
    buf_json_string(&t->tool_results, id);
    buf_str(&t->tool_results, ",\"content\":");
    buf_json_string(&t->tool_results, result);
    buf_str(&t->tool_results, "}");
    t->tool_calls++;
}

static int on_event(const AichatEvent *e, void *user_data) {
    Turn *t = user_data;
    if (t->last_kind == AICHAT_EVENT_REASONING && e->kind != AICHAT_EVENT_REASONING) puts("]");
    switch (e->kind) {
    case AICHAT_EVENT_REASONING:
        if (t->last_kind != AICHAT_EVENT_REASONING) fputs("[reasoning: ", stdout);
        fwrite(e->text, 1, e->text_len, stdout);
        break;
    case AICHAT_EVENT_TEXT:
    case AICHAT_EVENT_REFUSAL:
        fwrite(e->text, 1, e->text_len, stdout);
        break;
    case AICHAT_EVENT_TOOL_CALL:
        printf("[tool call %s (%s): ", e->name, e->id);
        break;
    case AICHAT_EVENT_TOOL_ARGUMENTS:
        fwrite(e->text, 1, e->text_len, stdout);
        break;
    case AICHAT_EVENT_FINISH:
        if (t->last_kind == AICHAT_EVENT_TOOL_ARGUMENTS || t->last_kind == AICHAT_EVENT_TOOL_CALL) puts("]");
        else putchar('\n');
        break;
    case AICHAT_EVENT_USAGE:
        printf("[usage: %lld prompt + %lld completion = %lld tokens]\n", (long long)e->usage->prompt_tokens,
               (long long)e->usage->completion_tokens, (long long)e->usage->total_tokens);
        break;
    case AICHAT_EVENT_MESSAGE:
        if (e->choice == 0) buf_add(&t->message, e->text, e->text_len);
        break;
    default: /* RESPONSE, and kinds added by later versions */
        break;
    }
    t->last_kind = (int)e->kind;
    fflush(stdout);
    return 0;
}

/* Runs one turn; returns 0 on success, 1 on failure (reported on stderr). */
static int run_turn(AichatClient *client, const char *request, Turn *turn) {
    AichatError *error = NULL;
    AichatStatus status = aichat_client_create_completion_events(client, request, on_event, turn, NULL, &error);
    if (status != AICHAT_OK) {
        fprintf(stderr, "\nchat: %s: %s\n", aichat_status_name((int)status), aichat_error_message(error));
    }
    aichat_error_free(error);
    return status != AICHAT_OK;
}

/* The calls the assistant's MESSAGE asked for: each "id" and "name" of its "tool_calls". The
   library wrote that JSON, so its layout is known: {"id":"..","type":"function","function":{"name":".."}}.
   A real program would use its JSON parser here. */
static void run_tools(Turn *t) {
    const char *p = t->message.data ? strstr(t->message.data, "\"tool_calls\":[") : NULL;
    while (p && (p = strstr(p, "{\"id\":\"")) != NULL) {
        char id[256], name[256];
        if (sscanf(p, "{\"id\":\"%255[^\"]\",\"type\":\"function\",\"function\":{\"name\":\"%255[^\"]\"", id, name) != 2)
            break;
        run_tool(t, id, name);
        p++;
    }
}

static void usage(void) {
    fputs("usage: chat [--base-url URL] [--provider NAME] [--model NAME] [--system TEXT] [--no-stream] [--tools]\n"
          "            [MESSAGE...]\n",
          stderr);
}

int main(int argc, char **argv) {
    const char *base_url = getenv("AICHAT_BASE_URL");
    const char *provider = getenv("AICHAT_PROVIDER");
    const char *model = getenv("AICHAT_MODEL");
    const char *system = NULL;
    int stream = 1, tools = 0;
    Buf message = {0};

    for (int i = 1; i < argc; i++) {
        const char **target = NULL;
        if (strcmp(argv[i], "--base-url") == 0) target = &base_url;
        else if (strcmp(argv[i], "--provider") == 0) target = &provider;
        else if (strcmp(argv[i], "--model") == 0) target = &model;
        else if (strcmp(argv[i], "--system") == 0) target = &system;
        else if (strcmp(argv[i], "--no-stream") == 0) stream = 0;
        else if (strcmp(argv[i], "--tools") == 0) tools = 1;
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

    /* The settings, then the conversation so far: both go into each turn's request. */
    Buf settings = {0};
    buf_str(&settings, stream ? "\"stream\":true" : "\"stream\":false");
    if (tools) buf_str(&settings, ",\"tools\":" TOOLS);
    if (base_url && *base_url) {
        buf_str(&settings, ",\"base_url\":");
        buf_json_string(&settings, base_url);
    }
    if (provider && *provider) {
        buf_str(&settings, ",\"provider\":");
        buf_json_string(&settings, provider);
    }
    if (model && *model) {
        buf_str(&settings, ",\"model\":");
        buf_json_string(&settings, model);
    }
    Buf messages = {0};
    if (system) {
        buf_str(&messages, "{\"role\":\"system\",\"content\":");
        buf_json_string(&messages, system);
        buf_str(&messages, "},");
    }
    buf_str(&messages, "{\"role\":\"user\",\"content\":");
    buf_json_string(&messages, message.len ? message.data : "Hello! Who are you?");
    buf_str(&messages, "}");

    AichatError *error = NULL;
    AichatClient *client = aichat_client_new(NULL, &error);
    int rc = client ? 0 : 1;
    if (!client) fprintf(stderr, "chat: %s\n", aichat_error_message(error));
    aichat_error_free(error);
    /* A model may chain tool calls; a few rounds are plenty for this example. */
    for (int round = 0; client && rc == 0 && round < 4; round++) {
        Turn turn = {0};
        Buf req = {0};
        buf_str(&req, "{\"messages\":[");
        buf_add(&req, messages.data, messages.len);
        buf_str(&req, "],");
        buf_add(&req, settings.data, settings.len);
        buf_str(&req, "}");
        rc = run_turn(client, req.data, &turn);
        if (rc == 0) run_tools(&turn);
        int again = rc == 0 && turn.tool_calls > 0;
        if (again) {
            buf_str(&messages, ",");
            buf_add(&messages, turn.message.data, turn.message.len);
            buf_add(&messages, turn.tool_results.data, turn.tool_results.len);
        }
        free(req.data);
        free(turn.message.data);
        free(turn.tool_results.data);
        if (!again) break;
    }
    aichat_client_free(client);
    free(settings.data);
    free(messages.data);
    free(message.data);
    return rc;
}
