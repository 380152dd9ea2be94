#include "support/tls_material.hpp"

#include "support/netns.hpp"

#include <crypt.h>

#include <memory>
#include <stdexcept>

namespace fizzhost::test {
namespace {

// One certificate and its key, signed by the CA (or self-signed when `ca` is empty).
void certificate(const std::filesystem::path& cert, const std::filesystem::path& key, const std::string& subject,
                 const std::vector<std::string>& extensions, const TlsMaterial* ca) {
    std::vector<std::string> argv = {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                     "-nodes", "-keyout", key.string(), "-out", cert.string(), "-days", "2",
                                     "-subj", subject};
    if (ca) argv.insert(argv.end(), {"-CA", ca->caCert.string(), "-CAkey", ca->caKey.string()});
    for (const auto& e : extensions) argv.insert(argv.end(), {"-addext", e});
    run(argv);
}

}  // namespace

TlsMaterial makeTlsMaterial(const std::filesystem::path& dir) {
    TlsMaterial m{dir / "ca.crt", dir / "ca.key", dir / "server.crt", dir / "server.key", dir / "client.crt",
                  dir / "client.key"};
    certificate(m.caCert, m.caKey, "/CN=fizzhost test CA", {}, nullptr);
    certificate(m.serverCert, m.serverKey, "/CN=127.0.0.1",
                {"subjectAltName=IP:127.0.0.1,DNS:localhost", "basicConstraints=critical,CA:FALSE",
                 "extendedKeyUsage=serverAuth"},
                &m);
    certificate(m.clientCert, m.clientKey, "/CN=prometheus",
                {"basicConstraints=critical,CA:FALSE", "extendedKeyUsage=clientAuth"}, &m);
    return m;
}

std::string bcryptHash(const std::string& password, unsigned cost) {
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$2y$", cost, nullptr, 0, salt, sizeof salt)) throw std::runtime_error("crypt_gensalt_rn failed");
    auto data = std::make_unique<crypt_data>();
    const char* hash = crypt_r(password.c_str(), salt, data.get());
    if (!hash || hash[0] == '*') throw std::runtime_error("crypt_r failed");
    return hash;
}

}  // namespace fizzhost::test
