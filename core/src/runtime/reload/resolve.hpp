// What an interface's config names, resolved for a reload (or a check): the device, the plugins,
// the settings every instance is loaded with. An error found here carries the config's
// file:line:col like the loader's own: "/etc/fizzhost/fizz.toml:7:14: interface 'eth0': unknown
// plugin 'fizzbuz' ...".
#pragma once

#include "config/host_config.hpp"
#include "plugin/catalog.hpp"
#include "runtime/instance/classifier.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace fizzhost::runtime {

/// The ifindex of `name` in this network namespace. Throws Error (ENODEV) when there is none.
int interfaceIndex(const std::string& name);

/// `message` about `ifc`, prefixed with "file:line:col: interface 'name': " unless it says so already.
std::string placed(const config::HostConfig& cfg, const config::Interface& ifc, const std::string& message);

/// catalog.find(ref), its error prefixed with the position `at` of the value that named the plugin.
std::shared_ptr<const plugin::Plugin> findPlugin(const plugin::Catalog& catalog, const config::HostConfig& cfg,
                                                 const config::Interface& ifc, const std::string& ref,
                                                 config::SourcePosition at);

/// Throws Error (EINVAL) when a rollout's candidate resolved to the classifier's very plugin:
/// classifier = "primes" and candidate = "primes@1.1.0" may well be the same file; or when a
/// cell of the rollout's `expected` list names a kind its plugin does not declare.
void requireDistinct(const std::string& where, const config::Interface& ifc, const plugin::Plugin& base,
                     const plugin::Plugin& cand);

/// A rollout's per-variant cost sampling: the config's, else the dispatcher's default.
uint32_t costSamplePeriod(const config::Rollout& r);

/// How `cfg` asks every classifier instance to be loaded (transport and sizes).
ClassifierOptions classifierOptions(const config::HostConfig& cfg);

}  // namespace fizzhost::runtime
