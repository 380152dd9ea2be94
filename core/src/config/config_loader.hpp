// TOML -> HostConfig, validated. Every error names the file, line, column and key.
#pragma once

#include "config/host_config.hpp"

#include <filesystem>
#include <string_view>

namespace fizzhost::config {

/// Reads and validates `file`. Relative paths inside are relative to the file's directory;
/// `defaultPluginDir` applies when plugin_dir is absent. Throws fizzhost::Error (ENOENT when the
/// file can't be read, EINVAL for content errors: "<file>:<line>:<col>: <key>: <problem>").
HostConfig loadConfig(const std::filesystem::path& file, const std::filesystem::path& defaultPluginDir);

/// The same from text; `source` names it in messages and anchors relative paths.
HostConfig parseConfig(std::string_view text, const std::filesystem::path& source,
                       const std::filesystem::path& defaultPluginDir);

}  // namespace fizzhost::config
