// libFuzzer harness: arbitrary bytes as a fizzhost config. The loader may refuse them only with
// fizzhost::Error (a message naming file:line:col); anything else escaping, a crash, a hang or a
// sanitizer report is a finding.
#include "config/config_loader.hpp"
#include "util/error.hpp"

#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto cfg = fizzhost::config::parseConfig(text, "/fuzz/fizz.toml", "/fuzz/plugins");
        // What is accepted must be what the runtime can trust.
        if (cfg.interfaces.empty()) __builtin_trap();
        if (!cfg.pluginDir.is_absolute()) __builtin_trap();
    } catch (const fizzhost::Error& e) {
        if (std::string_view(e.what()).empty()) __builtin_trap();
    }
    return 0;
}
