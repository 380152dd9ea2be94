// A plugin built against the frozen ABI 1.0 headers (tests/abi/v1_0): no metadata record, the 1.0
// descriptor. A 1.1 host must still list it (by file name), load it when selected, and run it.
#include <fizzhost/plugin.hpp>

#include "fizz_msg.h"

static_assert(FIZZHOST_PLUGIN_ABI_MINOR == 0, "built from the frozen 1.0 headers");

namespace {
constexpr const char* kKinds[] = {"Fizz"};
int decode(const fizz_msg& m, fizzhost_event& e) noexcept {
    if (m.kind != FIZZ_KIND_FIZZ) return -EINVAL;
    e.kind = m.kind;
    e.src_addr = m.saddr;
    return 0;
}
}  // namespace

FIZZHOST_PLUGIN(fizz_msg, "fizz_xdp", kKinds, decode)
