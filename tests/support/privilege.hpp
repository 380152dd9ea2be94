// Privileged tests skip loudly on a developer laptop and fail in CI (FIZZ_REQUIRE_PRIVILEGED=1).
#pragma once

#include <cstddef>
#include <string_view>

namespace fizzhost::test {

/// True when the effective capabilities allow loading and attaching XDP programs: CAP_NET_ADMIN
/// plus CAP_SYS_ADMIN (or CAP_BPF and CAP_PERFMON). Netns fixtures additionally need
/// CAP_SYS_ADMIN (unshare, setns, the /run/netns bind mounts). No side effects, no Catch2.
bool hasPrivilege();

/// hasPrivilege(), for use at the top of a test: `if (!requirePrivilege("attach XDP")) return;`.
/// When unprivileged: a test failure under FIZZ_REQUIRE_PRIVILEGED=1 (CI), else a Catch2 warning
/// naming `what`, and false. Call from the thread running the test case.
bool requirePrivilege(std::string_view what);

/// How many test cases requirePrivilege() skipped in this run (each counted once, whatever its
/// sections). Thread-safe.
size_t privilegedSkips();

}  // namespace fizzhost::test
