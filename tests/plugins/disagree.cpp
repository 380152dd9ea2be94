// A module whose metadata record (version 9.9.9) and runtime descriptor (version 1.0.0) disagree: the
// host must refuse to run what it did not list.
#include <fizzhost/plugin.hpp>

#include "fizz_msg.h"

namespace {
constexpr const char* kKinds[] = {"Fizz"};
int decode(const fizz_msg& m, fizzhost_event& e) noexcept {
    e.kind = m.kind;
    e.src_addr = m.saddr;
    return 0;
}
}  // namespace

__attribute__((section(FIZZHOST_METADATA_SECTION), used)) constexpr fizzhost_plugin_metadata kRecord =
    fizzhost::sdk::makeMetadata("disagree", "9.9.9", "fizz_xdp", sizeof(fizz_msg), kKinds, 1, nullptr, 0);

FIZZHOST_PLUGIN_EXPORT const fizzhost_plugin_descriptor* fizzhost_plugin_entry(void) {
    static const fizzhost_plugin_descriptor d = {
        FIZZHOST_PLUGIN_MAGIC, FIZZHOST_PLUGIN_ABI_MAJOR, FIZZHOST_PLUGIN_ABI_MINOR, sizeof(fizzhost_plugin_descriptor), 0,
        "disagree", "1.0.0", "fizz_xdp", FIZZ_MAP_EVENTS, sizeof(fizz_msg), 1, kKinds, fizzhost_embedded_object,
        uint64_t(fizzhost_embedded_object_end - fizzhost_embedded_object),
        &fizzhost::sdk::decodeTrampoline<fizz_msg, &decode>, 0, 0, nullptr,
        &fizzhost::sdk::decodeNoFieldsTrampoline<fizz_msg, &decode>};
    return &d;
}
