// fizz's message with a decoder that throws for odd sources: the SDK's trampoline must catch it and
// report FIZZHOST_DECODE_THREW, so the host counts the message as undecodable and keeps running.
#include <fizzhost/plugin.hpp>

#include "fizz_msg.h"

#include <stdexcept>

namespace {

constexpr const char* kKinds[] = {"Fizz"};
int decode(const fizz_msg& m, fizzhost_event& e) {  // deliberately not noexcept
    if (m.saddr % 2 == 1) throw std::runtime_error("odd source");
    e.kind = m.kind;
    e.src_addr = m.saddr;
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN(fizz_msg, "fizz_xdp", kKinds, decode)
