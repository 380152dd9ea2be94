// Privileged tests skip loudly on a developer laptop and fail in CI (FIZZ_REQUIRE_PRIVILEGED=1).
#pragma once

#include <string_view>

namespace fizzhost::test {

/// True when this process may load BPF programs and manage network namespaces. Otherwise: a test
/// failure under FIZZ_REQUIRE_PRIVILEGED=1, else a warning, and false (the caller returns).
bool requirePrivilege(std::string_view what);

}  // namespace fizzhost::test
