// Which plugin version a command ran, said once on stderr: a NAME without @VERSION takes the
// highest version in the folder, and the output must not leave the reader guessing which.
#pragma once

#include "config/host_config.hpp"
#include "plugin/catalog.hpp"

#include <string>

namespace fizzhost::cli {

/// "using fibonacci 3.0.0 (highest of 3.0.0, 2.9.0; sha256 1a2b3c4d5e6f)" for a bare name,
/// "(as asked; ...)" for NAME@VERSION, "(the only version; ...)" when there is one. `chosen` is what
/// catalog.find(ref) returned.
std::string versionNote(const plugin::Catalog& catalog, const std::string& ref, const plugin::Plugin& chosen);

/// The first 12 hex digits of a SHA-256, as listings show it.
std::string shortHash(const std::string& sha256Hex);

/// For `fizzhost check`: logs the version each interface's classifier and candidate resolve to,
/// and checks the kind names of every rollout's expected cells against the two plugins
/// (config::checkExpectedKinds), logging each problem. Returns how many problems it found. A
/// plugin folder or plugin that cannot be read is left to the host's own check, which reports it.
size_t checkPluginChoices(const config::HostConfig& cfg, bool allowInsecure);

}  // namespace fizzhost::cli
