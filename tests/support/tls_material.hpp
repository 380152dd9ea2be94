// Certificates, keys and bcrypt hashes made by a test for itself: a CA, a server certificate for
// 127.0.0.1 and a client certificate signed by it (the openssl command-line tool), and a bcrypt
// hash made with libxcrypt (crypt_gensalt_rn + crypt_r), the library fizzhost verifies with.
#pragma once

#include <filesystem>
#include <string>

namespace fizzhost::test {

struct TlsMaterial {
    std::filesystem::path caCert, caKey, serverCert, serverKey, clientCert, clientKey;
};

/// Makes the files in `dir` (EC P-256, valid two days). Throws std::runtime_error with openssl's
/// output when it fails.
TlsMaterial makeTlsMaterial(const std::filesystem::path& dir);

/// A fresh bcrypt hash ("$2y$<cost>$...") of `password`. Throws std::runtime_error.
std::string bcryptHash(const std::string& password, unsigned cost = 5);

}  // namespace fizzhost::test
