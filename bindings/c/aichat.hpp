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
// An exception thrown by the callable stops the request and is re-thrown from stream() once
// the C call has returned: it never unwinds through the library.
#ifndef AICHAT_HPP
#define AICHAT_HPP

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

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
        State<std::decay_t<F>> state{std::forward<F>(on_chunk), nullptr, false};
        AichatError *error = nullptr;
        AichatStatus status = aichat_client_create_completion(native_, request_json.c_str(), &trampoline<std::decay_t<F>>,
                                                              &state, cancel ? cancel->native() : nullptr, &error);
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

    /// Runs one completion and returns its whole text.
    std::string complete(const std::string &request_json, const Cancel *cancel = nullptr) const {
        std::string text;
        stream(request_json, [&text](std::string_view chunk) { text.append(chunk); }, cancel);
        return text;
    }

    const AichatClient *native() const noexcept { return native_; }

private:
    template <typename F>
    struct State {
        F on_chunk;
        std::exception_ptr exception;
        bool stopped;
    };

    template <typename F>
    static int trampoline(const char *chunk, size_t len, void *user_data) noexcept {
        auto *state = static_cast<State<F> *>(user_data);
        try {
            std::string_view text(chunk, len);
            if constexpr (std::is_convertible_v<std::invoke_result_t<F &, std::string_view>, bool>) {
                if (!state->on_chunk(text)) {
                    state->stopped = true;
                    return 1;
                }
            } else {
                state->on_chunk(text);
            }
            return 0;
        } catch (...) {
            // Never unwind through the library: keep it for stream() to re-throw.
            state->exception = std::current_exception();
            return 1;
        }
    }

    AichatClient *native_ = nullptr;
};

}  // namespace aichat

#endif  // AICHAT_HPP
