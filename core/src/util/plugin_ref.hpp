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

/// The longest plugin name: a plugin's metadata record holds it and a NUL in 64 bytes.
inline constexpr size_t kMaxPluginName = 63;

/// True for a character a plugin name may hold: [A-Za-z0-9_-]. The name becomes a file name in the
/// plugin folder: no '/', '.' or space.
bool pluginNameChar(char c);
/// True for a plugin name: 1 to kMaxPluginName characters, each a pluginNameChar().
bool validPluginName(std::string_view name);

/// Parses "NAME" or "NAME@VERSION" (VERSION semver). On failure returns nullopt and, when `why` is
/// given, says what is wrong.
std::optional<PluginRef> parsePluginRef(std::string_view text, std::string* why = nullptr);

}  // namespace fizzhost
