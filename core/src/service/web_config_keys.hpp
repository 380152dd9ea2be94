// The keys of `[metrics] web_config`'s file that service/web_config.cpp takes: its top level and
// tls_server_config (basic_auth_users maps user names to hashes). docs/configuration.md lists them.
#pragma once

#include <span>
#include <string_view>

namespace fizzhost::service {

std::span<const std::string_view> webConfigTopKeys();
std::span<const std::string_view> webConfigTlsKeys();

}  // namespace fizzhost::service
