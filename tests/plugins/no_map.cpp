// Its program declares no message queue.
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

FIZZHOST_PLUGIN(fizz_msg, "no_map_xdp", kKinds, decode)
