// The descriptor names a program that is not in the embedded object.
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

FIZZHOST_PLUGIN(fizz_msg, "absent_xdp", kKinds, decode)
