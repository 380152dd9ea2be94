// The OpenSSL server context of a web config's tls_server_config: certificate chain, key, protocol
// versions and client certificates, loaded and checked once per start or reload. Connections take
// a reference (SSL_new), so a reload never pulls a context from under one.
#pragma once

#include "service/web_config.hpp"

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace fizzhost::service {

/// Loads and checks everything `tls` names. Throws Error naming the key's file:line:col, the file
/// and OpenSSL's reason.
std::shared_ptr<SSL_CTX> makeTlsContext(const TlsServerConfig& tls);

/// OpenSSL's queued errors as one line (and clears them): "error:0A00009C:SSL routines::http request".
std::string tlsErrors();

}  // namespace fizzhost::service
