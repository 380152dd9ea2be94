#include "service/tls_context.hpp"

#include "util/error.hpp"
#include "util/text.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

namespace fizzhost::service {
namespace {

// RequestClientCert and RequireAnyClientCert ask for a certificate without judging it, as the
// exporter toolkit (Go's crypto/tls) does: any certificate the client has passes.
int acceptAny(int, X509_STORE_CTX*) { return 1; }

[[noreturn]] void fail(const std::string& at, const char* key, const std::filesystem::path& file, const std::string& why) {
    throw Error(at + ": tls_server_config." + key + ": '" + printable(file.string()) + "': " + why, EINVAL);
}

}  // namespace

std::string tlsErrors() {
    std::string out;
    char buf[256];
    for (unsigned long e; (e = ERR_get_error()) != 0;) {
        ERR_error_string_n(e, buf, sizeof buf);
        out += (out.empty() ? "" : "; ") + std::string(buf);
    }
    return out.empty() ? "unknown OpenSSL error" : out;
}

std::shared_ptr<SSL_CTX> makeTlsContext(const TlsServerConfig& tls) {
    ERR_clear_error();
    std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (!ctx) throw Error("TLS: cannot make a server context: " + tlsErrors(), ENOMEM);
    SSL_CTX* c = ctx.get();
    SSL_CTX_set_min_proto_version(c, tls.minVersion);
    SSL_CTX_set_max_proto_version(c, tls.maxVersion);
    // A renegotiation is a handshake the client may start at any time: nothing here needs it.
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(c, tls.certFile.c_str()) != 1)
        fail(tls.certAt, "cert_file", tls.certFile, "cannot load the certificate: " + tlsErrors());
    if (SSL_CTX_use_PrivateKey_file(c, tls.keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
        const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
        fail(tls.keyAt, "key_file", tls.keyFile,
             (mismatch ? "does not belong to the certificate in '" + printable(tls.certFile.string()) + "': "
                       : std::string("cannot load the private key: ")) +
                 tlsErrors());
    }
    if (SSL_CTX_check_private_key(c) != 1)
        fail(tls.keyAt, "key_file", tls.keyFile,
             "does not belong to the certificate in '" + printable(tls.certFile.string()) + "': " + tlsErrors());
    const std::string& type = tls.clientAuthType;
    if (type == "RequestClientCert") SSL_CTX_set_verify(c, SSL_VERIFY_PEER, acceptAny);
    if (type == "RequireAnyClientCert") SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, acceptAny);
    if (type == "VerifyClientCertIfGiven") SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
    if (type == "RequireAndVerifyClientCert")
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    if (!tls.clientCaFile.empty()) {
        if (SSL_CTX_load_verify_locations(c, tls.clientCaFile.c_str(), nullptr) != 1)
            fail(tls.caAt, "client_ca_file", tls.clientCaFile, "cannot load the client CA: " + tlsErrors());
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.clientCaFile.c_str());
        if (!names) fail(tls.caAt, "client_ca_file", tls.clientCaFile, "holds no CA certificate: " + tlsErrors());
        SSL_CTX_set_client_CA_list(c, names);
    }
    static const unsigned char kSessionContext[] = "fizzhost-metrics";
    SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);
    return ctx;
}

}  // namespace fizzhost::service
