// Decoder of the fizzbuzz classifier's messages.
#include <fizzhost/plugin.hpp>

#include "fizzbuzz_msg.h"

namespace {

// Indexed by enum fizzbuzz_kind.
constexpr const char* kKinds[] = {"Fizz", "Buzz", "FizzBuzz"};
static_assert(sizeof(kKinds) / sizeof(kKinds[0]) == FIZZBUZZ_KIND_COUNT);

int decode(const fizzbuzz_msg& msg, fizzhost_event& event) noexcept {
    if (msg.kind >= FIZZBUZZ_KIND_COUNT) return -EINVAL;
    event.kind = msg.kind;
    event.src_addr = msg.saddr;
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN(fizzbuzz_msg, "fizzbuzz_xdp", kKinds, decode)
