// The alternative a careful C++ engineer would write instead of the library: libcurl (one easy
// handle), lines split with memchr in the write callback, each event's JSON parsed in place with
// simdjson's On-Demand API for the content text only. It counts the content chunks and sums their
// bytes (so nothing is optimised away), like the library's text API to a C callback.
//
// Bedrock's ConverseStream is binary (application/vnd.amazon.eventstream), not lines: its messages
// are cut by their prelude, both CRC32s checked with zlib's crc32 (as the format requires; the
// SDKs do too), the headers scanned for `:message-type` and `:event-type`, and the payload of
// each `contentBlockDelta` event parsed in place with On-Demand for `delta.text`.
//
//   bench_simdjson PROTOCOL URL N [PASSES]     PROTOCOL: openai | anthropic | ollama | responses | gemini | bedrock
//
// Reads the stream PASSES times (default 1) and prints the fastest: "chunks=N passes=P
// seconds=S per_second=R bytes=B".
#include <curl/curl.h>
#include <simdjson.h>
#include <zlib.h>

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

enum class Protocol { OpenAI, Anthropic, Ollama, Responses, Gemini, Bedrock };

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
    case Protocol::Bedrock:
        return;  // not lines: on_eventstream
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
    case Protocol::Bedrock:
        return;
    }
    if (err == simdjson::NO_SUCH_FIELD) return;
    if (err) {
        s.failed = true;
        return;
    }
    content(s, text);
}

static uint32_t be32(const char *p) {
    const auto *u = reinterpret_cast<const unsigned char *>(p);
    return uint32_t(u[0]) << 24 | uint32_t(u[1]) << 16 | uint32_t(u[2]) << 8 | u[3];
}

static uint32_t crc(const char *p, size_t n) {
    return static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef *>(p), static_cast<uInt>(n)));
}

// One event-stream message, whole and with both CRCs checked: its headers scanned, and the text of
// a contentBlockDelta event's payload counted. `capacity`: the bytes that may be read from `p`.
static void eventstream_message(State &s, const char *p, uint32_t total, uint32_t headers_len, size_t capacity) {
    const char *h = p + 12, *end = h + headers_len;
    std::string_view event_type, message_type;
    while (h < end) {
        size_t name_len = static_cast<unsigned char>(*h++);
        if (end - h < static_cast<ptrdiff_t>(name_len) + 1) break;
        std::string_view name(h, name_len);
        h += name_len;
        unsigned char type = static_cast<unsigned char>(*h++);
        size_t value_len;
        switch (type) {
        case 0: case 1: value_len = 0; break;              // true, false
        case 2: value_len = 1; break;                      // byte
        case 3: value_len = 2; break;                      // short
        case 4: value_len = 4; break;                      // int
        case 5: case 8: value_len = 8; break;              // long, timestamp
        case 9: value_len = 16; break;                     // uuid
        case 6: case 7:                                    // bytes, string: 2-byte length
            if (end - h < 2) { s.failed = true; return; }
            value_len = size_t(static_cast<unsigned char>(h[0])) << 8 | static_cast<unsigned char>(h[1]);
            h += 2;
            break;
        default: s.failed = true; return;
        }
        if (end - h < static_cast<ptrdiff_t>(value_len)) { s.failed = true; return; }
        if (type == 7 && name == ":event-type") event_type = std::string_view(h, value_len);
        else if (type == 7 && name == ":message-type") message_type = std::string_view(h, value_len);
        h += value_len;
    }
    if (h != end || message_type != "event") {  // an exception or error message ends the stream
        s.failed = true;
        return;
    }
    if (event_type != "contentBlockDelta") return;
    size_t payload_len = total - 16 - headers_len;
    auto doc = s.parser.iterate(simdjson::padded_string_view(end, payload_len, capacity - (end - p)));
    std::string_view text;
    simdjson::error_code err = doc["delta"]["text"].get_string().get(text);
    if (err == simdjson::NO_SUCH_FIELD) return;  // a tool call's or reasoning's delta
    if (err) {
        s.failed = true;
        return;
    }
    content(s, text);
}

static size_t on_eventstream(State &s, size_t n) {
    char *start = s.buf.data(), *end = start + s.len;
    while (end - start >= 12) {
        uint32_t total = be32(start), headers_len = be32(start + 4);
        if (total < 16 || headers_len > total - 16 || be32(start + 8) != crc(start, 8)) {
            s.failed = true;
            return 0;
        }
        if (end - start < static_cast<ptrdiff_t>(total)) break;
        if (be32(start + total - 4) != crc(start, total - 4)) {
            s.failed = true;
            return 0;
        }
        eventstream_message(s, start, total, headers_len, s.buf.size() - (start - s.buf.data()));
        start += total;
    }
    s.len = end - start;
    std::memmove(s.buf.data(), start, s.len);
    return n;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *user) {
    State &s = *static_cast<State *>(user);
    size_t n = size * nmemb;
    if (s.buf.size() < s.len + n + simdjson::SIMDJSON_PADDING) s.buf.resize((s.len + n) * 2 + simdjson::SIMDJSON_PADDING);
    std::memcpy(s.buf.data() + s.len, data, n);
    s.len += n;
    if (s.protocol == Protocol::Bedrock) return on_eventstream(s, n);
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
        std::fprintf(stderr, "usage: bench_simdjson openai|anthropic|ollama|responses|gemini|bedrock URL N [PASSES]\n");
        return 2;
    }
    std::string proto = argv[1];
    Protocol protocol = proto == "anthropic"   ? Protocol::Anthropic
                        : proto == "ollama"    ? Protocol::Ollama
                        : proto == "responses" ? Protocol::Responses
                        : proto == "gemini"    ? Protocol::Gemini
                        : proto == "bedrock"   ? Protocol::Bedrock
                                               : Protocol::OpenAI;
    long expected = std::atol(argv[3]);
    int passes = argc == 5 ? std::atoi(argv[4]) : 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(nullptr, "content-type: application/json");
    if (protocol == Protocol::Bedrock) headers = curl_slist_append(headers, "authorization: Bearer x");
    curl_easy_setopt(curl, CURLOPT_URL, argv[2]);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
                     protocol == Protocol::Bedrock
                         ? R"({"messages":[{"role":"user","content":[{"text":"Hi"}]}]})"
                         : R"({"model":"m","stream":true,"messages":[{"role":"user","content":"Hi"}]})");
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
