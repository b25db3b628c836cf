// The alternative a careful C++ engineer would write instead of the library: libcurl (one easy
// handle), lines split with memchr in the write callback, each event's JSON parsed in place with
// simdjson's On-Demand API for the content text only. It counts the content chunks and sums their
// bytes (so nothing is optimised away), like the library's text API to a C callback.
//
//   bench_simdjson PROTOCOL URL N [PASSES]     PROTOCOL: openai | anthropic | ollama | responses | gemini
//
// Reads the stream PASSES times (default 1) and prints the fastest: "chunks=N passes=P
// seconds=S per_second=R bytes=B".
#include <curl/curl.h>
#include <simdjson.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

// CPU time of the whole process (every thread, so curl's resolver too), user and system.
static double cpu_seconds() {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

enum class Protocol { OpenAI, Anthropic, Ollama, Responses, Gemini };

struct State {
    Protocol protocol;
    simdjson::ondemand::parser parser;
    // Bytes of an unfinished line, kept with SIMDJSON_PADDING spare bytes after them so that a
    // line can be parsed where it lies.
    std::vector<char> buf;
    size_t len = 0;
    // anthropic, responses: the last `event:` line named the text delta event
    // (content_block_delta, response.output_text.delta)
    bool delta_event = false;
    size_t chunks = 0, bytes = 0;
    bool failed = false;
};

static void content(State &s, std::string_view text) {
    if (!text.empty()) {
        s.chunks++;
        s.bytes += text.size();
    }
}

static void line(State &s, const char *p, size_t n, size_t capacity) {
    if (n && p[n - 1] == '\r') n--;
    std::string_view json;
    switch (s.protocol) {
    case Protocol::OpenAI:
        if (n < 6 || std::memcmp(p, "data: ", 6) != 0) return;
        json = std::string_view(p + 6, n - 6);
        if (json == "[DONE]") return;
        break;
    case Protocol::Anthropic:
        if (n >= 7 && std::memcmp(p, "event: ", 7) == 0) {
            s.delta_event = std::string_view(p + 7, n - 7) == "content_block_delta";
            return;
        }
        if (!s.delta_event || n < 6 || std::memcmp(p, "data: ", 6) != 0) return;
        json = std::string_view(p + 6, n - 6);
        break;
    case Protocol::Ollama:
        if (n == 0) return;
        json = std::string_view(p, n);
        break;
    case Protocol::Responses:
        if (n >= 7 && std::memcmp(p, "event: ", 7) == 0) {
            s.delta_event = std::string_view(p + 7, n - 7) == "response.output_text.delta";
            return;
        }
        if (!s.delta_event || n < 6 || std::memcmp(p, "data: ", 6) != 0) return;
        json = std::string_view(p + 6, n - 6);
        break;
    case Protocol::Gemini:
        if (n < 6 || std::memcmp(p, "data: ", 6) != 0) return;
        json = std::string_view(p + 6, n - 6);
        break;
    }
    size_t cap = capacity - static_cast<size_t>(json.data() - p);
    auto doc = s.parser.iterate(simdjson::padded_string_view(json.data(), json.size(), cap));
    std::string_view text;
    simdjson::error_code err = simdjson::SUCCESS;
    switch (s.protocol) {
    case Protocol::OpenAI: {
        auto choices = doc["choices"];
        auto first = choices.at(0);
        if (first.error()) return;  // the usage chunk: no choice
        err = first["delta"]["content"].get_string().get(text);
        if (err == simdjson::INCORRECT_TYPE) return;  // "content": null
        break;
    }
    case Protocol::Anthropic:
        err = doc["delta"]["text"].get_string().get(text);
        break;
    case Protocol::Ollama:
        err = doc["message"]["content"].get_string().get(text);
        break;
    case Protocol::Responses:
        err = doc["delta"].get_string().get(text);
        break;
    case Protocol::Gemini: {
        // The first candidate's first part: one text part per chunk, as Gemini streams text.
        auto first = doc["candidates"].at(0);
        if (first.error()) return;  // a chunk without candidates (usage only, prompt feedback)
        err = first["content"]["parts"].at(0)["text"].get_string().get(text);
        break;
    }
    }
    if (err == simdjson::NO_SUCH_FIELD) return;
    if (err) {
        s.failed = true;
        return;
    }
    content(s, text);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *user) {
    State &s = *static_cast<State *>(user);
    size_t n = size * nmemb;
    if (s.buf.size() < s.len + n + simdjson::SIMDJSON_PADDING) s.buf.resize((s.len + n) * 2 + simdjson::SIMDJSON_PADDING);
    std::memcpy(s.buf.data() + s.len, data, n);
    s.len += n;
    char *start = s.buf.data(), *end = start + s.len;
    while (const char *nl = static_cast<const char *>(std::memchr(start, '\n', end - start))) {
        line(s, start, nl - start, s.buf.size() - (start - s.buf.data()));
        start = const_cast<char *>(nl) + 1;
    }
    s.len = end - start;
    std::memmove(s.buf.data(), start, s.len);
    return n;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        std::fprintf(stderr, "usage: bench_simdjson openai|anthropic|ollama|responses|gemini URL N [PASSES]\n");
        return 2;
    }
    std::string proto = argv[1];
    Protocol protocol = proto == "anthropic"   ? Protocol::Anthropic
                        : proto == "ollama"    ? Protocol::Ollama
                        : proto == "responses" ? Protocol::Responses
                        : proto == "gemini"    ? Protocol::Gemini
                                               : Protocol::OpenAI;
    long expected = std::atol(argv[3]);
    int passes = argc == 5 ? std::atoi(argv[4]) : 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(nullptr, "content-type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, argv[2]);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, R"({"model":"m","stream":true,"messages":[{"role":"user","content":"Hi"}]})");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    // One handle, one parser and one line buffer for every pass (its connection is reused), as a
    // program streaming many answers would keep them; the fastest pass is reported.
    State s;
    s.protocol = protocol;
    double best = 0, best_cpu = 0;
    for (int pass = 0; pass < passes; pass++) {
        s.len = 0;
        s.delta_event = false;
        s.chunks = s.bytes = 0;
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
        auto t0 = std::chrono::steady_clock::now();
        double c0 = cpu_seconds();
        CURLcode rc = curl_easy_perform(curl);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double cpu = cpu_seconds() - c0;
        if (rc != CURLE_OK || s.failed || static_cast<long>(s.chunks) != expected) {
            std::fprintf(stderr, "curl: %s; parse failed: %d; chunks %zu of %ld\n", curl_easy_strerror(rc), s.failed, s.chunks,
                         expected);
            return 1;
        }
        if (pass == 0 || seconds < best) best = seconds;
        if (pass == 0 || cpu < best_cpu) best_cpu = cpu;
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    std::printf("chunks=%zu passes=%d seconds=%.4f per_second=%.1f cpu_seconds=%.4f per_cpu_second=%.1f bytes=%zu\n", s.chunks,
                passes, best, s.chunks / best, best_cpu, s.chunks / best_cpu, s.bytes);
    return 0;
}
