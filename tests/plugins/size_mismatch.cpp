// A decoder built for a 12-byte message while the program pushes 8-byte ones.
#include <fizzhost/plugin.hpp>

namespace {
struct WideMsg {
    uint32_t kind, saddr, extra;
};
constexpr const char* kKinds[] = {"Fizz"};
int decode(const WideMsg& m, fizzhost_event& e) noexcept {
    e.kind = m.kind;
    e.src_addr = m.saddr;
    return 0;
}
}  // namespace

FIZZHOST_PLUGIN(WideMsg, "fizz_xdp", kKinds, decode)
