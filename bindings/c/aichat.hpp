// aichat.hpp: a header-only C++17 wrapper over aichat.h. It translates only: RAII handles,
// exceptions for status codes, any callable as the chunk callback. The protocols, validation,
// retries and timeouts are the library's.
//
//   aichat::Client client(R"({"provider":"openai","base_url":"http://127.0.0.1:8080/v1"})");
//   client.stream(R"([{"role":"user","content":"Hi"}])", [](std::string_view chunk) {
//       std::cout << chunk << std::flush;
//       return true;  // false stops the request
//   });
//
//   aichat::Result r = client.run(R"({"messages":[...],"tools":[...]})");
//   for (auto &call : r.tool_calls) ...;   // r.text, r.reasoning, r.finish_reason, r.usage,
//                                          // r.message_json (append it to "messages"), r.choices
//   client.events(request, [](const aichat::Event &e) { if (e.kind == aichat::EventKind::Text) ...; });
//
//   aichat::Stream s = client.open_stream(request);   // pulled: for event loops and many streams
//   poll s.fd() ...; auto batch = s.next(0);          // batch.chunks, batch.finished
//
// An exception thrown by the callable stops the request and is re-thrown from stream() or
// events() once the C call has returned: it never unwinds through the library.
#ifndef AICHAT_HPP
#define AICHAT_HPP

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "aichat.h"

namespace aichat {

/// A failed call: the C status, its message, and the HTTP status (0 when none arrived).
class Error : public std::runtime_error {
public:
    Error(AichatStatus code, const std::string &message, unsigned http_status)
        : std::runtime_error(message), code_(code), http_status_(http_status) {}

    AichatStatus code() const noexcept { return code_; }
    /// The C name, e.g. "AICHAT_ERROR_TIMEOUT".
    const char *code_name() const noexcept { return aichat_status_name(static_cast<int>(code_)); }
    unsigned http_status() const noexcept { return http_status_; }

    /// Takes ownership of a C error and converts it.
    static Error take(AichatError *error) {
        if (error == nullptr) return Error(AICHAT_ERROR_INTERNAL, "the library failed without an error", 0);
        Error e(aichat_error_code(error), aichat_error_message(error), aichat_error_http_status(error));
        aichat_error_free(error);
        return e;
    }

private:
    AichatStatus code_;
    unsigned http_status_;
};

/// A cancel token: trigger() from any thread stops the calls given it.
class Cancel {
public:
    Cancel() : native_(aichat_cancel_new()) {
        if (native_ == nullptr) throw std::bad_alloc();
    }
    ~Cancel() { aichat_cancel_free(native_); }
    Cancel(const Cancel &) = delete;
    Cancel &operator=(const Cancel &) = delete;

    void trigger() const noexcept { aichat_cancel_trigger(native_); }
    const AichatCancel *native() const noexcept { return native_; }

private:
    AichatCancel *native_;
};

/// What an event carries (AichatEventKind); a kind this header does not name may arrive from a
/// newer library: skip it.
enum class EventKind : int {
    Response = AICHAT_EVENT_RESPONSE,
    Text = AICHAT_EVENT_TEXT,
    Reasoning = AICHAT_EVENT_REASONING,
    ToolCall = AICHAT_EVENT_TOOL_CALL,
    ToolArguments = AICHAT_EVENT_TOOL_ARGUMENTS,
    Refusal = AICHAT_EVENT_REFUSAL,
    Finish = AICHAT_EVENT_FINISH,
    Usage = AICHAT_EVENT_USAGE,
    Message = AICHAT_EVENT_MESSAGE,
    /// Only when the request set "result": the whole answer (Event::result).
    Result = AICHAT_EVENT_RESULT,
};

/// Token counts; -1 where the server did not say.
struct Usage {
    int64_t prompt_tokens = -1, completion_tokens = -1, total_tokens = -1, cached_tokens = -1, reasoning_tokens = -1;
};

/// A view of one event (AichatEvent), valid only during the callback: copy what you keep.
struct Event {
    EventKind kind;
    uint32_t choice;
    uint32_t index;
    std::string_view text;
    std::string_view id;
    std::string_view name;
    /// Kinds Usage and Result only, else nullptr.
    const AichatUsage *usage;
    /// Kind Result only: the whole answer, typed (aichat_event_result), else nullptr.
    const AichatResult *result;

    static Event from(const AichatEvent &e) noexcept {
        return Event{static_cast<EventKind>(e.kind), e.choice, e.index, std::string_view(e.text, e.text_len),
                     std::string_view(e.id), std::string_view(e.name), e.usage,
                     e.kind == AICHAT_EVENT_RESULT ? aichat_event_result(&e) : nullptr};
    }
};

struct ToolCall {
    std::string id, name, arguments;
};

/// One choice of a Result.
struct Choice {
    uint32_t index = 0;
    std::string text, reasoning, refusal;
    std::vector<ToolCall> tool_calls;
    /// "stop", "length", "tool_calls", "content_filter" or the server's word; "" if none came.
    std::string finish_reason;
    /// The reason as the server wrote it; "" if none came.
    std::string finish_reason_raw;
    /// The assistant message as JSON, to append to "messages" for the next turn.
    std::string message_json;
};

/// The whole answer, as run() copies it from the library's (AichatResult). The fields outside
/// `choices` are choice 0's, as before choices were given.
struct Result {
    std::string text, reasoning, refusal;
    std::vector<ToolCall> tool_calls;
    /// "stop", "length", "tool_calls", "content_filter" or the server's word; "" if none came.
    std::string finish_reason;
    /// -1 in every count when the server reported none.
    Usage usage;
    std::string response_id, model, request_id;
    /// The assistant message as JSON, to append to "messages" for the next turn.
    std::string message_json;
    /// Every choice, in order (more than one when the request set "n").
    std::vector<Choice> choices;

    /// A copy of the library's view, which is valid only as long as its event.
    static Result from(const AichatResult &r) {
        Result out;
        out.response_id = r.id;
        out.model = r.model;
        out.request_id = r.request_id;
        if (r.usage != nullptr) {
            out.usage = Usage{r.usage->prompt_tokens, r.usage->completion_tokens, r.usage->total_tokens,
                              r.usage->cached_tokens, r.usage->reasoning_tokens};
        }
        for (size_t i = 0; i < r.choice_count; i++) {
            const AichatChoice &c = r.choices[i];
            Choice choice;
            choice.index = c.index;
            choice.text.assign(c.text, c.text_len);
            choice.reasoning.assign(c.reasoning, c.reasoning_len);
            choice.refusal.assign(c.refusal, c.refusal_len);
            for (size_t k = 0; k < c.tool_call_count; k++) {
                const AichatToolCall &t = c.tool_calls[k];
                choice.tool_calls.push_back(ToolCall{t.id, t.name, std::string(t.arguments, t.arguments_len)});
            }
            choice.finish_reason = c.finish_reason;
            choice.finish_reason_raw = c.finish_reason_raw;
            choice.message_json.assign(c.message, c.message_len);
            out.choices.push_back(std::move(choice));
        }
        if (!out.choices.empty()) {
            const Choice &first = out.choices.front();
            out.text = first.text;
            out.reasoning = first.reasoning;
            out.refusal = first.refusal;
            out.tool_calls = first.tool_calls;
            out.finish_reason = first.finish_reason;
            out.message_json = first.message_json;
        }
        return out;
    }
};

/// `request_json` asking for RESULT ("result": true): a messages array becomes a request
/// object; an object gets the field first. A request that sets "result" itself fails (a
/// duplicate field); text that is neither is passed on for the library to reject.
inline std::string with_result(const std::string &request_json) {
    const char *space = " \t\r\n";
    size_t open = request_json.find_first_not_of(space);
    if (open == std::string::npos) return request_json;
    if (request_json[open] == '[') return R"({"result":true,"messages":)" + request_json + "}";
    if (request_json[open] != '{') return request_json;
    size_t next = request_json.find_first_not_of(space, open + 1);
    bool empty = next != std::string::npos && request_json[next] == '}';
    return request_json.substr(0, open + 1) + (empty ? R"("result":true)" : R"("result":true,)") +
           request_json.substr(open + 1);
}

/// A completion pulled in batches (aichat_client_stream_open), for a caller that drives many
/// streams from one thread or an event loop: poll fd() and call next(0) when it is readable.
/// Move-only; destroying it stops the request. Use it from one thread at a time.
class StreamBase {
public:
    ~StreamBase() { aichat_stream_free(native_); }
    StreamBase(const StreamBase &) = delete;
    StreamBase &operator=(const StreamBase &) = delete;
    StreamBase(StreamBase &&other) noexcept : native_(std::exchange(other.native_, nullptr)) {}
    StreamBase &operator=(StreamBase &&other) noexcept {
        if (this != &other) {
            aichat_stream_free(native_);
            native_ = std::exchange(other.native_, nullptr);
        }
        return *this;
    }

    /// The descriptor (aichat_stream_fd): readable while next() has something to return; owned
    /// by the stream (do not read or close it). Throws aichat::Error if one cannot be made.
    int fd() const {
        AichatError *error = nullptr;
        int fd = aichat_stream_fd(native_, &error);
        if (fd < 0) throw Error::take(error);
        return fd;
    }

    AichatStream *native() const noexcept { return native_; }

protected:
    explicit StreamBase(AichatStream *native) noexcept : native_(native) {}
    AichatStream *native_;
};

/// A stream of text chunks (Client::open_stream).
class Stream : public StreamBase {
public:
    /// What one next() returned: views valid until the next call on the stream.
    struct Batch {
        std::vector<std::string_view> chunks;
        /// The completion finished: nothing follows.
        bool finished = false;
    };

    /// Waits up to `wait_ms` for chunks (0: never blocks), then returns all that are there;
    /// throws aichat::Error on failure, once the chunks before it were returned.
    Batch next(uint32_t wait_ms) {
        AichatChunks c;
        AichatError *error = nullptr;
        if (aichat_stream_next(native_, wait_ms, &c, &error) != AICHAT_OK) throw Error::take(error);
        Batch b;
        b.finished = c.finished;
        b.chunks.reserve(c.count);
        size_t start = 0;
        for (size_t i = 0; i < c.count; i++) {
            b.chunks.emplace_back(c.text + start, c.ends[i] - start);
            start = c.ends[i];
        }
        return b;
    }

private:
    friend class Client;
    using StreamBase::StreamBase;
};

/// A stream of events (Client::open_events).
class EventStream : public StreamBase {
public:
    /// What one next() returned: views valid until the next call on the stream.
    struct Batch {
        std::vector<Event> events;
        bool finished = false;
    };

    /// As Stream::next, for events.
    Batch next(uint32_t wait_ms) {
        AichatEvents e;
        AichatError *error = nullptr;
        if (aichat_stream_next_events(native_, wait_ms, &e, &error) != AICHAT_OK) throw Error::take(error);
        Batch b;
        b.finished = e.finished;
        b.events.reserve(e.count);
        for (size_t i = 0; i < e.count; i++) b.events.push_back(Event::from(e.items[i]));
        return b;
    }

private:
    friend class Client;
    using StreamBase::StreamBase;
};

/// A client: defaults and a connection pool shared by its calls; safe to use from many threads.
class Client {
public:
    /// Library defaults.
    Client() : Client(nullptr) {}
    /// Defaults from options JSON (the request fields without "messages"); nullptr for the
    /// library's. Throws aichat::Error when the options are invalid.
    explicit Client(const char *options_json) {
        AichatError *error = nullptr;
        native_ = aichat_client_new(options_json, &error);
        if (native_ == nullptr) throw Error::take(error);
    }
    explicit Client(const std::string &options_json) : Client(options_json.c_str()) {}

    ~Client() { aichat_client_free(native_); }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    Client(Client &&other) noexcept : native_(std::exchange(other.native_, nullptr)) {}
    Client &operator=(Client &&other) noexcept {
        if (this != &other) {
            aichat_client_free(native_);
            native_ = std::exchange(other.native_, nullptr);
        }
        return *this;
    }

    /// Runs one completion, calling `on_chunk(std::string_view)` on this thread for each chunk
    /// as it arrives (valid only during the call: copy what you keep). `on_chunk` returns bool
    /// (false stops the request) or nothing. Returns true when the completion finished, false
    /// when `on_chunk` stopped it; throws aichat::Error on failure (a triggered `cancel`
    /// included) and re-throws what `on_chunk` threw.
    template <typename F>
    bool stream(const std::string &request_json, F &&on_chunk, const Cancel *cancel = nullptr) const {
        return call<std::string_view>(std::forward<F>(on_chunk), [&](auto trampoline, void *state, AichatError **error) {
            return aichat_client_create_completion(native_, request_json.c_str(), trampoline, state,
                                                   cancel ? cancel->native() : nullptr, error);
        });
    }

    /// Runs one completion, calling `on_event(const aichat::Event &)` on this thread for every
    /// event as it arrives (RESPONSE first, MESSAGE last). Otherwise as stream().
    template <typename F>
    bool events(const std::string &request_json, F &&on_event, const Cancel *cancel = nullptr) const {
        return call<const Event &>(std::forward<F>(on_event), [&](auto trampoline, void *state, AichatError **error) {
            return aichat_client_create_completion_events(native_, request_json.c_str(), trampoline, state,
                                                          cancel ? cancel->native() : nullptr, error);
        });
    }

    /// Runs one completion and returns its whole text.
    std::string complete(const std::string &request_json, const Cancel *cancel = nullptr) const {
        std::string text;
        stream(request_json, [&text](std::string_view chunk) { text.append(chunk); }, cancel);
        return text;
    }

    /// Runs one completion and returns the whole answer: the library assembles it (the
    /// request is sent with "result": true, which it must not set itself) and hands it over as
    /// the last event, which is copied here.
    Result run(const std::string &request_json, const Cancel *cancel = nullptr) const {
        Result r;
        bool got = false;
        events(
            with_result(request_json),
            [&](const Event &e) {
                if (e.result == nullptr) return;
                r = Result::from(*e.result);
                got = true;
            },
            cancel);
        if (!got) throw Error(AICHAT_ERROR_INTERNAL, "the answer ended without its RESULT event", 0);
        return r;
    }

    /// Starts a completion and returns at once (the library's I/O thread sends it); pull its
    /// chunks with Stream::next (or poll Stream::fd). Throws aichat::Error when the request is invalid.
    Stream open_stream(const std::string &request_json, const Cancel *cancel = nullptr) const {
        AichatError *error = nullptr;
        AichatStream *s = aichat_client_stream_open(native_, request_json.c_str(), cancel ? cancel->native() : nullptr, &error);
        if (s == nullptr) throw Error::take(error);
        return Stream(s);
    }

    /// As open_stream, for the events.
    EventStream open_events(const std::string &request_json, const Cancel *cancel = nullptr) const {
        AichatError *error = nullptr;
        AichatStream *s =
            aichat_client_stream_open_events(native_, request_json.c_str(), cancel ? cancel->native() : nullptr, &error);
        if (s == nullptr) throw Error::take(error);
        return EventStream(s);
    }

    const AichatClient *native() const noexcept { return native_; }

private:
    template <typename F>
    struct State {
        F callback;
        std::exception_ptr exception;
        bool stopped;
    };

    /// Calls the callable with `arg`; false (stop) when it returned false or threw, keeping the
    /// exception: it must never unwind through the library.
    template <typename Arg, typename F>
    static int deliver(State<F> *state, Arg arg) noexcept {
        try {
            if constexpr (std::is_convertible_v<std::invoke_result_t<F &, Arg>, bool>) {
                if (!state->callback(arg)) {
                    state->stopped = true;
                    return 1;
                }
            } else {
                state->callback(arg);
            }
            return 0;
        } catch (...) {
            state->exception = std::current_exception();
            return 1;
        }
    }

    template <typename F>
    static int chunk_trampoline(const char *chunk, size_t len, void *user_data) noexcept {
        return deliver<std::string_view>(static_cast<State<F> *>(user_data), std::string_view(chunk, len));
    }

    template <typename F>
    static int event_trampoline(const AichatEvent *event, void *user_data) noexcept {
        return deliver<const Event &>(static_cast<State<F> *>(user_data), Event::from(*event));
    }

    /// Runs a C call with the trampoline for `Arg`, then turns its outcome into a return value
    /// or an exception.
    template <typename Arg, typename F, typename CCall>
    static bool call(F &&callback, CCall &&c_call) {
        using Fn = std::decay_t<F>;
        State<Fn> state{std::forward<F>(callback), nullptr, false};
        AichatError *error = nullptr;
        AichatStatus status;
        if constexpr (std::is_same_v<Arg, std::string_view>) {
            status = c_call(&chunk_trampoline<Fn>, &state, &error);
        } else {
            status = c_call(&event_trampoline<Fn>, &state, &error);
        }
        if (state.exception) {
            aichat_error_free(error);
            std::rethrow_exception(state.exception);
        }
        if (status == AICHAT_OK) return true;
        if (state.stopped) {
            aichat_error_free(error);
            return false;
        }
        throw Error::take(error);
    }

    AichatClient *native_ = nullptr;
};

}  // namespace aichat

#endif  // AICHAT_HPP
