// Semantic versions as plugins declare them, ordered by semver precedence (2.0.0 section 11:
// pre-release identifiers compared one by one, numeric below alphanumeric, a release above its
// pre-releases; build metadata ignored).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost {

struct SemVer {
    uint64_t major = 0, minor = 0, patch = 0;
    std::vector<std::string> preRelease;

    /// Parses "1.2.3", "1.2.3-rc.1", "1.2.3+build", "1.2.3-rc.1+build"; nullopt for anything else.
    static std::optional<SemVer> parse(std::string_view text);
};

/// <0, 0 or >0 as `a` has lower, equal or higher precedence than `b`.
int compare(const SemVer& a, const SemVer& b);

}  // namespace fizzhost
