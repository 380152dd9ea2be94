// Config text for tests: parsing it as the host would read /etc/fizz/fizz.toml, the error a bad one
// is refused with, and the interface and rollout tables tests write for the interface they made.
#pragma once

#include "config/host_config.hpp"

#include <functional>
#include <optional>
#include <string>

namespace fizzhost::test {

/// Where parseConfigText() says the text came from, in its errors (file:line:col).
inline constexpr const char* kConfigSource = "/etc/fizz/fizz.toml";
/// The plugin folder a parsed config uses when it names none.
inline constexpr const char* kConfigPluginDir = "/usr/lib/fizzhost/plugins";

/// `text` parsed as the file kConfigSource. Throws Error as the loader does.
config::HostConfig parseConfigText(const std::string& text);

/// The message of the Error `fn` throws, its code checked against `code` when given; fails the
/// test when it throws none.
std::string errorOf(const std::function<void()>& fn, std::optional<int> code = std::nullopt);
/// The error (EINVAL) config `text` is refused with; a test failure when it is accepted.
std::string configErrorOf(const std::string& text);

/// "[interface.IFNAME]\nclassifier = \"CLASSIFIER\"\n" and `extra`, lines of that table.
std::string interfaceTable(const std::string& ifname, const std::string& classifier, const std::string& extra = "");
/// interfaceTable() and its rollout table "[interface.IFNAME.rollout]" holding `rollout` (lines).
std::string rolloutTable(const std::string& ifname, const std::string& classifier, const std::string& rollout);

}  // namespace fizzhost::test
