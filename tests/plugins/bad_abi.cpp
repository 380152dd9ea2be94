// A descriptor claiming plugin ABI 99.0: the host must refuse it and name both versions.
#include <fizzhost/plugin.hpp>

#include "fizz_msg.h"

namespace {
constexpr const char* kKinds[] = {"Fizz"};
int decode(const void*, uint32_t, fizzhost_event*) { return 0; }
}  // namespace

FIZZHOST_PLUGIN_EXPORT const fizzhost_plugin_descriptor* fizzhost_plugin_entry(void) {
    static const fizzhost_plugin_descriptor d = {
        FIZZHOST_PLUGIN_MAGIC, 99, 0, sizeof(fizzhost_plugin_descriptor), 0, "bad-abi", "1.0.0", "fizz_xdp",
        FIZZ_MAP_EVENTS, sizeof(fizz_msg), 1, kKinds, fizzhost_embedded_object,
        uint64_t(fizzhost_embedded_object_end - fizzhost_embedded_object), decode, 0, 0, nullptr, nullptr};
    return &d;
}
