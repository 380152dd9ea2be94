// A decoder that attacks its own channel on the marked message (198.18.0.99): it finds the memory
// the worker shares with the host (from the field values it is handed, back page by page to the
// control block's magic), moves the channel's `done` a million messages past what the host
// published and holds it there a while, and writes a string field longer than its array. The host
// must take back no more results than it submitted and never read a string past its array.
#include <fizzhost/plugin.hpp>

#include "decoder/protocol.hpp"  // the area's layout: what a hostile module could learn anyway
#include "fizz_msg.h"

#include <time.h>

#include <cstring>

namespace {

constexpr uint32_t kMarked = 0xC6120063;
constexpr const char* kKinds[] = {"Fizz"};
enum : uint32_t { kText };
constexpr fizzhost::sdk::Field kFields[] = {{"text", FIZZHOST_FIELD_STRING}};

uint64_t nowNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

void attack(fizzhost_field_value* values) {
    values[kText].length = 5000;  // far past the 48 bytes a value holds
    values[kText].set = 1;
    namespace protocol = fizzhost::decoder::protocol;
    auto page = reinterpret_cast<uintptr_t>(values) & ~uintptr_t(4095);
    while (*reinterpret_cast<const uint32_t*>(page) != protocol::kMagic) page -= 4096;
    auto* control = reinterpret_cast<protocol::ControlBlock*>(page);
    protocol::ChannelHeader* channel = protocol::channelAt(control, *control, 0);
    const uint64_t forged = channel->head.load() + 1000000;
    for (const uint64_t until = nowNs() + 50000000; nowNs() < until;) channel->done.store(forged);
}

int decode(const fizz_msg& m, fizzhost_event& e, fizzhost::sdk::Fields& f) noexcept {
    e.kind = m.kind;
    e.src_addr = m.saddr;
    if (m.saddr == kMarked) {
        // Fields keeps the pointer it writes to first: the values in the worker's shared memory.
        fizzhost_field_value* values = nullptr;
        std::memcpy(&values, &f, sizeof values);
        attack(values);
    }
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN_WITH_FIELDS(fizz_msg, "fizz_xdp", kKinds, kFields, decode)
