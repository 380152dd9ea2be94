// Decoder of the fizz classifier's messages.
#include <fizzhost/plugin.hpp>

#include "fizz_msg.h"

namespace {

constexpr const char* kKinds[] = {"Fizz"};

int decode(const fizz_msg& msg, fizzhost_event& event) noexcept {
    if (msg.kind != FIZZ_KIND_FIZZ) return -EINVAL;
    event.kind = msg.kind;
    event.src_addr = msg.saddr;
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN(fizz_msg, "fizz_xdp", kKinds, decode)
