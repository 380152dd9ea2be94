#include "support/privilege.hpp"

#include <catch2/catch.hpp>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace fizzhost::test {
namespace {

bool hasCapabilities() {
    if (geteuid() == 0) return true;
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &hdr, data) != 0) return false;
    auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1; };
    return has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_NET_ADMIN) && has(CAP_PERFMON));
}

}  // namespace

bool requirePrivilege(std::string_view what) {
    if (hasCapabilities()) return true;
    const char* required = std::getenv("FIZZ_REQUIRE_PRIVILEGED");
    if (required && std::string(required) == "1")
        FAIL("privileged test '" << what << "' needs root (or CAP_BPF+CAP_NET_ADMIN+CAP_PERFMON) but "
                                 << "FIZZ_REQUIRE_PRIVILEGED=1");
    WARN("skipping privileged test '" << what << "': needs root (set FIZZ_REQUIRE_PRIVILEGED=1 to make this a failure)");
    return false;
}

}  // namespace fizzhost::test
