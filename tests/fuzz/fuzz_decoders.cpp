// libFuzzer harness: arbitrary bytes as a raw message for each shipped plugin's decoder (the first
// byte picks the plugin). A decoder must answer every input with 0 and a declared kind, or with a
// negative errno, without crashing, hanging or tripping a sanitizer.
#include "plugin/catalog.hpp"
#include "util/error.hpp"

#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

namespace {

std::vector<std::shared_ptr<const fizzhost::plugin::Plugin>> plugins;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    fizzhost::plugin::Catalog catalog(FIZZHOST_PLUGIN_DIR, fizzhost::plugin::FilePolicy{});
    catalog.rescan();
    for (const char* name : {"fizz", "fizzbuzz", "fibonacci"}) plugins.push_back(catalog.find(name));
    std::fprintf(stderr, "fuzzing the decoders of %zu plugins from %s\n", plugins.size(), FIZZHOST_PLUGIN_DIR);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const auto& plugin = *plugins[data[0] % plugins.size()];
    fizzhost_event event{};
    const int rc = plugin.decode(data + 1, uint32_t(size - 1), event);
    if (rc > 0) __builtin_trap();                                   // 0 or -errno only
    if (rc == 0 && event.kind >= plugin.kinds().size()) __builtin_trap();  // a kind it declared
    if (rc == 0 && size - 1 != plugin.messageSize()) __builtin_trap();    // sizes are checked first
    return 0;
}
