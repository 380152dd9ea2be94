// "parity", built from the frozen ABI 1.0 headers (no metadata record) in two versions, installed
// under file names that say nothing (parity-1.1.0.so holds 1.2.0, x.so holds 1.1.0). Its
// constructor records the uid it runs as and tries to leave a marker file at FIZZTEST_LEGACY_MARKER:
// a describe or decode that ran it as root outside a chroot would leave the file. The marked
// message (source 198.18.0.99) decodes to the constructor's uid as the source.
#include <fizzhost/plugin.hpp>

#include "fizz_msg.h"

#include <fcntl.h>
#include <unistd.h>

static_assert(FIZZHOST_PLUGIN_ABI_MINOR == 0, "built from the frozen 1.0 headers");

#ifndef FIZZTEST_LEGACY_MARKER
#error "FIZZTEST_LEGACY_MARKER: the absolute path the constructor tries to create"
#endif

namespace {

uint32_t gCtorUid = ~0u;

__attribute__((constructor)) void atLoad() {
    gCtorUid = ::getuid();
    const int fd = ::open(FIZZTEST_LEGACY_MARKER, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) ::close(fd);
}

constexpr const char* kKinds[] = {"Fizz"};
int decode(const fizz_msg& m, fizzhost_event& e) noexcept {
    if (m.kind != FIZZ_KIND_FIZZ) return -EINVAL;
    e.kind = m.kind;
    e.src_addr = m.saddr == 0xC6120063 ? gCtorUid : m.saddr;
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN(fizz_msg, "fizz_xdp", kKinds, decode)
