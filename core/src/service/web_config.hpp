// `[metrics] web_config`: TLS and basic auth for /metrics, in the Prometheus exporter toolkit's
// web configuration file format (https://prometheus.io/docs/prometheus/latest/configuration/https/),
// so one file serves fizzhost and the node exporter alike:
//
//   tls_server_config:
//     cert_file: server.crt            # relative paths: to this file's folder
//     key_file: server.key
//     client_auth_type: RequireAndVerifyClientCert   # default NoClientCert
//     client_ca_file: clients-ca.crt
//     min_version: TLS12               # TLS10..TLS13; default TLS12
//     max_version: TLS13
//   basic_auth_users:
//     prometheus: $2y$10$...           # bcrypt hashes (htpasswd -nBC 10 "" | tr -d ':\n')
//
// Parsed with libyaml; every key that is not one of these (http_server_config, cipher_suites,
// inline certificates, ...) is refused with file:line:col rather than ignored, since a setting
// silently dropped here could leave the endpoint more open than its owner believes.
#pragma once

#include <openssl/ssl.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fizzhost::service {

struct TlsServerConfig {
    std::filesystem::path certFile, keyFile, clientCaFile;  // absolute
    std::string clientAuthType = "NoClientCert";
    int minVersion = TLS1_2_VERSION, maxVersion = 0;  // 0: the newest the library has
    std::string certAt, keyAt, caAt;                   // "file:line:col", for errors found loading them
};

struct WebConfig {
    std::filesystem::path source;
    std::optional<TlsServerConfig> tls;
    std::map<std::string, std::string> users;  // name -> bcrypt hash
};

/// Parses the YAML text; `source` names it in errors and anchors relative paths. Throws Error(EINVAL)
/// "<file>:<line>:<col>: <key>: <problem>".
WebConfig parseWebConfig(std::string_view text, const std::filesystem::path& source);

/// What the server runs with: a TLS context (null: plain HTTP) and the users (empty: no auth).
/// Immutable once made; a reload makes a new one.
struct WebSettings {
    std::filesystem::path source;  // empty: no web config
    std::shared_ptr<SSL_CTX> tls;
    std::string clientAuth;  // tls_server_config.client_auth_type
    std::map<std::string, std::string> users;
    std::string dummyHash;  // checked for an unknown user, so it costs what a known one does

    /// "TLS (client certificates: RequireAndVerifyClientCert), basic auth (1 user)" or "plain HTTP, no auth".
    std::string describe() const;
};

/// Reads `file` (the config's trust rule applies: root's, in folders closed to others, unless
/// `allowInsecure`), loads its certificates and key and checks they belong together. No file: plain
/// HTTP, no auth. Throws Error naming file:line:col and the key.
std::shared_ptr<const WebSettings> loadWebSettings(const std::optional<std::filesystem::path>& file,
                                                   bool allowInsecure);

/// True for "$2a$", "$2b$" or "$2y$" bcrypt hashes with a cost of 4..31 ($2y$10$ + 53 characters).
bool isBcryptHash(std::string_view hash);

}  // namespace fizzhost::service
