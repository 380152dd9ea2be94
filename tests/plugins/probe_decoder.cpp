// A decoder that reports who it runs as: the uid, gid and effective capabilities its decoder sees,
// and what its constructor saw (its uid, and the errno of opening /etc/shadow; 0 if it could).
// Confined it must read an unprivileged user, no capabilities, and a refused open.
#include <fizzhost/plugin.hpp>

#include "fizz_msg.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace {

uint32_t gCtorUid = ~0u;
int gCtorOpenErrno = -1;

__attribute__((constructor)) void probeAtLoad() {
    gCtorUid = ::getuid();
    const int fd = ::open("/etc/shadow", O_RDONLY | O_CLOEXEC);
    gCtorOpenErrno = fd >= 0 ? 0 : errno;
    if (fd >= 0) ::close(fd);
}

constexpr const char* kKinds[] = {"Probe"};
enum : uint32_t { kUid, kGid, kCapEff, kCtorUid, kCtorOpenErrno };
constexpr fizzhost::sdk::Field kFields[] = {
    {"uid", FIZZHOST_FIELD_U64},      {"gid", FIZZHOST_FIELD_U64},
    {"cap_eff", FIZZHOST_FIELD_U64},  {"ctor_uid", FIZZHOST_FIELD_U64},
    {"ctor_open_errno", FIZZHOST_FIELD_I64},
};

int decode(const fizz_msg& m, fizzhost_event& e, fizzhost::sdk::Fields& f) noexcept {
    e.kind = 0;
    e.src_addr = m.saddr;
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) == 0)
        f.u64(kCapEff, uint64_t(data[0].effective) | uint64_t(data[1].effective) << 32);
    f.u64(kUid, ::getuid());
    f.u64(kGid, ::getgid());
    f.u64(kCtorUid, gCtorUid);
    f.i64(kCtorOpenErrno, gCtorOpenErrno);
    return 0;
}

}  // namespace

FIZZHOST_PLUGIN_WITH_FIELDS(fizz_msg, "fizz_xdp", kKinds, kFields, decode)
