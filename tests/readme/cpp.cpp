// The README's C++ example (example `cpp`) as the body of main, then what it gathered.
@README_INCLUDES@

int main() {
    @README@
    std::cout << "\ncomplete: " << text << "\nrun: " << r.finish_reason;
    for (const auto &call : r.tool_calls) std::cout << " " << call.name << " " << call.arguments;
    std::cout << "\n";
}
