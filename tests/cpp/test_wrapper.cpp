// Test of the C++ wrapper (aichat.hpp) against the local test server:
//   test_wrapper BASE_URL
// Prints one line per failed check and a closing "N passed, N failed" line.
#include <aichat.hpp>

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

static int passed, failed;

#define CHECK(cond)                                                   \
    do {                                                              \
        if (cond) {                                                   \
            passed++;                                                 \
        } else {                                                      \
            failed++;                                                 \
            std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        }                                                             \
    } while (0)

static std::string base;

static std::string openai(const std::string &fault, const std::string &extra = "") {
    std::string url = base + (fault.empty() ? "" : "/fault/" + fault) + "/v1";
    return R"({"provider":"openai","stream":true,"proxy":"","max_retries":0,"base_url":")" + url +
           R"(","messages":[{"role":"user","content":"one two"}])" + extra + "}";
}

static void test_streaming() {
    aichat::Client client;
    std::vector<std::string> chunks;
    bool finished = client.stream(openai(""), [&](std::string_view chunk) {
        chunks.emplace_back(chunk);
        return true;
    });
    CHECK(finished);
    CHECK((chunks == std::vector<std::string>{"You ", "said: ", "one ", "two"}));
}

static void test_complete_and_options() {
    aichat::Client client(R"({"proxy":"","base_url":")" + base + "\"}");
    CHECK(client.complete(R"([{"role":"user","content":"Hi"}])") == "You said: Hi");
    aichat::Client moved = std::move(client);
    CHECK(moved.complete(R"([{"role":"user","content":"again"}])") == "You said: again");
}

static void test_callable_stops() {
    aichat::Client client;
    int n = 0;
    bool finished = client.stream(openai("chunks=100"), [&](std::string_view) { return ++n < 3; });
    CHECK(!finished);
    CHECK(n == 3);
}

static void test_error_exception() {
    aichat::Client client;
    try {
        client.complete(openai("status=503"));
        CHECK(false);
    } catch (const aichat::Error &e) {
        CHECK(e.code() == AICHAT_ERROR_HTTP_STATUS);
        CHECK(e.http_status() == 503);
        CHECK(std::string(e.code_name()) == "AICHAT_ERROR_HTTP_STATUS");
        CHECK(std::string(e.what()).find("injected HTTP 503") != std::string::npos);
    }
    try {
        aichat::Client bad(R"({"provider":"bard"})");
        CHECK(false);
    } catch (const aichat::Error &e) {
        CHECK(e.code() == AICHAT_ERROR_INVALID_REQUEST);
    }
}

static void test_exception_in_callable_is_rethrown() {
    aichat::Client client;
    int calls = 0;
    try {
        client.stream(openai("chunks=100"), [&](std::string_view) -> bool {
            ++calls;
            throw std::logic_error("from the lambda");
        });
        CHECK(false);
    } catch (const std::logic_error &e) {
        CHECK(std::string(e.what()) == "from the lambda");
    }
    CHECK(calls == 1);
    CHECK(client.complete(openai("")) == "You said: one two");
}

static void test_cancel_from_another_thread() {
    aichat::Client client;
    aichat::Cancel cancel;
    std::chrono::steady_clock::time_point triggered;
    std::thread trigger([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        triggered = std::chrono::steady_clock::now();
        cancel.trigger();
    });
    try {
        client.complete(openai("silence", R"(,"idle_timeout_ms":1000)"), &cancel);
        CHECK(false);
    } catch (const aichat::Error &e) {
        CHECK(e.code() == AICHAT_ERROR_CANCELLED);
    }
    auto late = std::chrono::steady_clock::now() - triggered;
    trigger.join();
    CHECK(late < std::chrono::milliseconds(500));
}

static const std::string kTools =
    R"(,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])";

static void test_events_and_run_with_a_tool_call() {
    aichat::Client client;
    std::vector<aichat::EventKind> kinds;
    std::string arguments;
    client.events(openai("", kTools), [&](const aichat::Event &e) {
        kinds.push_back(e.kind);
        if (e.kind == aichat::EventKind::ToolArguments) arguments.append(e.text);
    });
    CHECK(!kinds.empty() && kinds.front() == aichat::EventKind::Response);
    CHECK(!kinds.empty() && kinds.back() == aichat::EventKind::Message);
    CHECK(arguments == R"({"city":"one two"})");

    aichat::Result r = client.run(openai("", kTools));
    CHECK(r.tool_calls.size() == 1);
    CHECK(r.tool_calls.size() == 1 && r.tool_calls[0].id == "call_aichat_0" && r.tool_calls[0].name == "get_weather");
    CHECK(r.tool_calls.size() == 1 && r.tool_calls[0].arguments == R"({"city":"one two"})");
    CHECK(r.finish_reason == "tool_calls");
    CHECK(r.request_id == "req-aichat-test" && r.response_id == "chatcmpl-aichat-test");
    CHECK(r.usage.total_tokens == 21 && r.usage.cached_tokens == 3);
    CHECK(r.message_json.find(R"("tool_calls":[{"id":"call_aichat_0")") != std::string::npos);

    aichat::Result thinking = client.run(openai("reasoning"));
    CHECK(thinking.text == "You said: one two");
    CHECK(thinking.reasoning == "The user wrote something; I will quote it back.");
    CHECK(thinking.finish_reason == "stop");
    CHECK(thinking.choices.size() == 1 && thinking.choices[0].finish_reason_raw == "stop");
    CHECK(r.choices.size() == 1 && r.choices[0].tool_calls.size() == 1 && r.choices[0].message_json == r.message_json);

    // n > 1: every choice, with choice 0's also in the top-level fields.
    aichat::Result two = client.run(openai("reasoning", R"(,"n":2)"));
    CHECK(two.choices.size() == 2);
    for (size_t i = 0; i < two.choices.size(); i++) {
        CHECK(two.choices[i].index == i && two.choices[i].text == "You said: one two");
        CHECK(two.choices[i].reasoning == thinking.reasoning && two.choices[i].finish_reason == "stop");
        CHECK(two.choices[i].message_json.find(R"("reasoning_content":)") != std::string::npos);
    }
    CHECK(two.text == "You said: one two" && two.usage.prompt_tokens == 9);
    aichat::Result refused = client.run(openai("refusal"));
    CHECK(refused.refusal == "I can't help with that." && refused.text.empty() && refused.tool_calls.empty());
    aichat::Result no_usage = client.run(openai("", R"(,"include_usage":false)"));
    CHECK(no_usage.usage.total_tokens == -1 && no_usage.text == "You said: one two");

    // RESULT through events(), for a request that asks for it: the typed view on that event only.
    int typed = 0, untyped = 0;
    client.events(aichat::with_result(openai("")), [&](const aichat::Event &e) {
        if (e.kind == aichat::EventKind::Result && e.result != nullptr && e.usage != nullptr &&
            e.result->choice_count == 1 && std::string(e.result->choices[0].text) == "You said: one two")
            typed++;
        if (e.kind != aichat::EventKind::Result && e.result == nullptr) untyped++;
    });
    CHECK(typed == 1 && untyped > 4);
    CHECK(aichat::with_result("[]") == R"({"result":true,"messages":[]})");
    CHECK(aichat::with_result(" { } ") == R"( {"result":true } )");
    CHECK(aichat::with_result(R"({"a":1})") == R"({"result":true,"a":1})");

    int seen = 0;
    bool finished = client.events(openai(""), [&](const aichat::Event &) { return ++seen < 2; });
    CHECK(!finished && seen == 2);
    try {
        client.events(openai(""), [](const aichat::Event &e) {
            if (e.kind == aichat::EventKind::Text) throw std::logic_error("from the event callable");
        });
        CHECK(false);
    } catch (const std::logic_error &e) {
        CHECK(std::string(e.what()) == "from the event callable");
    }
}

static void test_pulled_streams_by_descriptor() {
    aichat::Client client;
    std::vector<aichat::Stream> streams;
    for (int i = 0; i < 3; i++) streams.push_back(client.open_stream(openai("chunks=50")));
    aichat::EventStream events = client.open_events(openai(""));
    std::vector<std::string> text(streams.size());
    std::vector<bool> done(streams.size());
    std::string event_text;
    bool events_done = false, got_message = false;
    for (int rounds = 0; rounds < 10000 && !(events_done && std::all_of(done.begin(), done.end(), [](bool d) { return d; }));
         rounds++) {
        std::vector<pollfd> fds;
        for (auto &s : streams) fds.push_back(pollfd{s.fd(), POLLIN, 0});
        fds.push_back(pollfd{events.fd(), POLLIN, 0});
        CHECK(::poll(fds.data(), fds.size(), 5000) > 0);
        for (size_t i = 0; i < streams.size(); i++) {
            if (done[i] || !(fds[i].revents & POLLIN)) continue;
            auto batch = streams[i].next(0);
            for (auto chunk : batch.chunks) text[i].append(chunk);
            done[i] = batch.finished;
        }
        if (!events_done && (fds.back().revents & POLLIN)) {
            auto batch = events.next(0);
            for (auto &e : batch.events) {
                if (e.kind == aichat::EventKind::Text) event_text.append(e.text);
                if (e.kind == aichat::EventKind::Message) got_message = true;
            }
            events_done = batch.finished;
        }
    }
    for (size_t i = 0; i < streams.size(); i++) CHECK(done[i] && !text[i].empty());
    CHECK(events_done && got_message && event_text == "You said: one two");
    aichat::Stream moved = std::move(streams[0]);
    CHECK(moved.next(0).finished);
    try {
        client.open_stream("{");
        CHECK(false);
    } catch (const aichat::Error &e) {
        CHECK(e.code() == AICHAT_ERROR_INVALID_REQUEST);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: test_wrapper BASE_URL\n");
        return 2;
    }
    base = argv[1];
    test_streaming();
    test_complete_and_options();
    test_callable_stops();
    test_error_exception();
    test_exception_in_callable_is_rethrown();
    test_cancel_from_another_thread();
    test_events_and_run_with_a_tool_call();
    test_pulled_streams_by_descriptor();
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
