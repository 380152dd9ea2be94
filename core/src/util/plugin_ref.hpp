// How a config or a command names a plugin: NAME (the highest version present) or NAME@VERSION
// (exactly that version). One rule, used by the config loader and the catalog alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fizzhost {

struct PluginRef {
    std::string name;
    std::optional<std::string> version;  // nullopt: the highest version present
    std::string text() const { return version ? name + "@" + *version : name; }
};

/// True for a plugin name: [A-Za-z0-9_-], 1 to 63 characters.
bool validPluginName(std::string_view name);

/// Parses "NAME" or "NAME@VERSION" (VERSION semver). On failure returns nullopt and, when `why` is
/// given, says what is wrong.
std::optional<PluginRef> parsePluginRef(std::string_view text, std::string* why = nullptr);

}  // namespace fizzhost
