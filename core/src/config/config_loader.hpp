// TOML -> HostConfig, validated. Every error names the file, line, column and key.
#pragma once

#include "config/host_config.hpp"

#include <filesystem>
#include <string_view>

namespace fizzhost::config {

/// Whether a config file that other users could have written is refused (Strict: the file or a folder
/// on its real path breaks util/file_trust's rule) or loaded with a loud warning (Insecure: only from
/// --allow-insecure-plugins on the command line).
enum class FileTrust { Strict, Insecure };

/// Reads and validates `file`. Relative paths inside are relative to the file's directory;
/// `defaultPluginDir` applies when plugin_dir is absent. Never blocks on a FIFO: anything but a
/// regular file is refused. Throws fizzhost::Error (ENOENT when the file can't be read, EISDIR /
/// EINVAL for a folder / another non-regular file, EPERM for an unsafe owner or mode of the file or
/// a folder above it, EAGAIN when its path changed while being checked, EINVAL for
/// content errors: "<file>:<line>:<col>: <key>: <problem>").
HostConfig loadConfig(const std::filesystem::path& file, const std::filesystem::path& defaultPluginDir,
                      FileTrust trust = FileTrust::Strict);

/// The same from text; `source` names it in messages and anchors relative paths.
HostConfig parseConfig(std::string_view text, const std::filesystem::path& source,
                       const std::filesystem::path& defaultPluginDir);

}  // namespace fizzhost::config
