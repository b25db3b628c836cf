// Streams a completion to stdout through the C++ wrapper (aichat.hpp), like the C example:
//   chat-cpp [MESSAGE...]
// The server, protocol and model come from AICHAT_BASE_URL, AICHAT_PROVIDER and AICHAT_MODEL
// (unset: the library's defaults). In the repository, after `make build`:
//   c++ -std=c++17 -Iinclude -Ibindings/c bindings/c/examples/chat.cpp -Ltarget/release -laichat
//     -Wl,-rpath,$PWD/target/release -o target/c/chat-cpp
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "aichat.hpp"

// A JSON string literal holding `s` (UTF-8 passes through as is).
static std::string json_string(const std::string &s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

int main(int argc, char **argv) {
    std::string message;
    for (int i = 1; i < argc; i++) message += (i > 1 ? " " : "") + std::string(argv[i]);
    if (message.empty()) message = "Hello! Who are you?";

    // The client's defaults, from the environment.
    std::string options;
    const char *fields[][2] = {{"base_url", "AICHAT_BASE_URL"}, {"provider", "AICHAT_PROVIDER"}, {"model", "AICHAT_MODEL"}};
    for (auto &field : fields) {
        const char *value = std::getenv(field[1]);
        if (value != nullptr && *value != '\0')
            options += (options.empty() ? "" : ",") + json_string(field[0]) + ":" + json_string(value);
    }
    try {
        aichat::Client client(("{" + options + "}").c_str());
        std::string request = R"({"stream":true,"messages":[{"role":"user","content":)" + json_string(message) + "}]}";
        client.stream(request, [](std::string_view chunk) {
            std::cout << chunk << std::flush;
            return true;
        });
        std::cout << '\n';
    } catch (const aichat::Error &e) {
        std::cerr << "\nchat-cpp: " << e.code_name() << ": " << e.what() << '\n';
        return 1;
    }
    return 0;
}
