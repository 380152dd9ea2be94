// fizz's message with a decoder that misbehaves on one marked message (source 198.18.0.99,
// FIZZTEST_MARKED) and decodes every other one as fizz does. FIZZTEST_MISBEHAVE picks how:
//   1 throw (not noexcept: the SDK's trampoline catches it)   2 throw from a noexcept decoder
//   3 segfault   4 abort()   5 loop forever   6 allocate without bound
//   7 open /etc/shadow   8 create a socket   9 bpf(BPF_MAP_CREATE)
// The confined worker must contain each of them (tests/unit/test_decoder_isolation.cpp).
#include <fizzhost/plugin.hpp>

#include "fizz_msg.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#ifndef FIZZTEST_MISBEHAVE
#error "FIZZTEST_MISBEHAVE picks the misbehaviour (see the top of this file)"
#endif

namespace {

constexpr uint32_t kMarked = 0xC6120063;  // 198.18.0.99 (divisible by 3: fizz's program emits it)
constexpr const char* kKinds[] = {"Fizz"};

// Out of line, so the compiler cannot see that a noexcept caller always terminates.
[[gnu::noinline]] void fail() { throw std::runtime_error("marked message"); }

int misbehave() {
    switch (FIZZTEST_MISBEHAVE) {
    case 1:
    case 2: fail(); break;
    case 3: *static_cast<volatile int*>(nullptr) = 1; break;
    case 4: std::abort();
    case 5:
        for (;;) asm volatile("" ::: "memory");  // spins, and the compiler may not drop it
    case 6: {
        static std::vector<char*> hoard;
        for (;;) {
            char* block = new char[1 << 20];
            std::memset(block, 1, 1 << 20);
            hoard.push_back(block);
        }
    }
    case 7: return ::open("/etc/shadow", O_RDONLY) >= 0 ? 0 : -errno;
    case 8: return ::socket(AF_INET, SOCK_DGRAM, 0) >= 0 ? 0 : -errno;
    case 9: {
        bpf_attr attr{};
        attr.map_type = BPF_MAP_TYPE_ARRAY;
        attr.key_size = 4;
        attr.value_size = 4;
        attr.max_entries = 1;
        return ::syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr) >= 0 ? 0 : -errno;
    }
    }
    return -EINVAL;
}

#if FIZZTEST_MISBEHAVE == 1
int decode(const fizz_msg& m, fizzhost_event& e) {
#else
int decode(const fizz_msg& m, fizzhost_event& e) noexcept {
#endif
    if (m.saddr == kMarked) {
        if (int rc = misbehave(); rc != 0) return rc;
    }
    e.kind = m.kind;
    e.src_addr = m.saddr;
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN(fizz_msg, "fizz_xdp", kKinds, decode)
