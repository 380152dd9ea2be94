// A decoder for fizz's message whose descriptor names FIZZTEST_PROGRAM: the test plugins that pair it
// with a missing program, an object without a queue, a program the verifier rejects, or a
// constructor that must not run when the plugin is only listed (marker.cpp).
#include <fizzhost/plugin.hpp>

#include "fizz_msg.h"

#ifndef FIZZTEST_PROGRAM
#error "FIZZTEST_PROGRAM names the XDP program the descriptor points at"
#endif

namespace {
constexpr const char* kKinds[] = {"Fizz"};
int decode(const fizz_msg& m, fizzhost_event& e) noexcept {
    e.kind = m.kind;
    e.src_addr = m.saddr;
    return 0;
}
}  // namespace

FIZZHOST_PLUGIN(fizz_msg, FIZZTEST_PROGRAM, kKinds, decode)
