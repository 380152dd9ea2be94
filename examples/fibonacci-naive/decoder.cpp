// Decoder of the fibonacci-naive classifier's messages.
#include <fizzhost/plugin.hpp>

#include "fibonacci_naive_msg.h"

namespace {

// Indexed by enum fibonacci_naive_kind.
constexpr const char* kKinds[] = {"Fizz", "Buzz", "FizzBuzz", "Fibonacci"};
static_assert(sizeof(kKinds) / sizeof(kKinds[0]) == FIBONACCI_NAIVE_KIND_COUNT);

int decode(const fibonacci_naive_msg& msg, fizzhost_event& event) noexcept {
    if (msg.kind >= FIBONACCI_NAIVE_KIND_COUNT) return -EINVAL;
    event.kind = msg.kind;
    event.src_addr = msg.saddr;
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN(fibonacci_naive_msg, "fibonacci_naive_xdp", kKinds, decode)
