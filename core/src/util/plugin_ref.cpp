#include "util/plugin_ref.hpp"

#include "util/semver.hpp"

#include <algorithm>

namespace fizzhost {

bool pluginNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool validPluginName(std::string_view name) {
    return !name.empty() && name.size() <= kMaxPluginName && std::all_of(name.begin(), name.end(), pluginNameChar);
}

std::optional<PluginRef> parsePluginRef(std::string_view text, std::string* why) {
    auto fail = [&](std::string msg) -> std::optional<PluginRef> {
        if (why) *why = std::move(msg);
        return std::nullopt;
    };
    PluginRef ref;
    auto at = text.find('@');
    ref.name = std::string(text.substr(0, at));
    if (!validPluginName(ref.name))
        return fail("plugin name '" + ref.name + "' is not [A-Za-z0-9_-]{1," + std::to_string(kMaxPluginName) +
                    "} (write NAME or NAME@VERSION)");
    if (at != std::string_view::npos) {
        std::string version(text.substr(at + 1));
        if (!SemVer::parse(version))
            return fail("version '" + version + "' is not semver (write NAME@MAJOR.MINOR.PATCH[-pre][+build])");
        ref.version = std::move(version);
    }
    return ref;
}

}  // namespace fizzhost
