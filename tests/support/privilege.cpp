#include "support/privilege.hpp"

#include <catch2/catch.hpp>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <set>
#include <string>

namespace fizzhost::test {

namespace {

std::mutex skippedMutex;
std::set<std::string> skipped;  // test case names

}  // namespace

bool hasPrivilege() {
    // The effective set, not euid: root inside a container that dropped CAP_SYS_ADMIN cannot do
    // this work, and a non-root CI runner granted the capabilities can.
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    if (syscall(SYS_capget, &header, data) != 0) return false;
    auto has = [&](int cap) { return ((data[cap / 32].effective >> (cap % 32)) & 1u) != 0; };
    // Without CAP_PERFMON (or SYS_ADMIN) the verifier applies Spectre v1 restrictions and refuses
    // some of the classifiers' packet arithmetic, so CAP_BPF alone would give confusing failures.
    const bool bpf = has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
    return bpf && has(CAP_NET_ADMIN);
}

bool requirePrivilege(std::string_view what) {
    if (hasPrivilege()) return true;
    const char* required = std::getenv("FIZZ_REQUIRE_PRIVILEGED");
    if (required != nullptr && std::string_view(required) == "1")
        FAIL("privileged test '" << what << "' needs root (CAP_NET_ADMIN with CAP_SYS_ADMIN, or with "
                                 << "CAP_BPF+CAP_PERFMON) but FIZZ_REQUIRE_PRIVILEGED=1");
    WARN("skipping privileged test '" << what
                                      << "': needs root (set FIZZ_REQUIRE_PRIVILEGED=1 to make this a failure)");
    {
        std::lock_guard lock(skippedMutex);
        skipped.insert(Catch::getResultCapture().getCurrentTestName());
    }
    return false;
}

size_t privilegedSkips() {
    std::lock_guard lock(skippedMutex);
    return skipped.size();
}

}  // namespace fizzhost::test
