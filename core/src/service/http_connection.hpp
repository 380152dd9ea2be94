// One /metrics connection's transport: a non-blocking socket, plain or TLS (OpenSSL driven by the
// same event loop: the handshake, reads and writes return "would block" instead of waiting), the
// bytes it received and the response it still has to write. What to do next is the loop's
// business (http_server.cpp); nothing here blocks.
#pragma once

#include "service/http_request.hpp"
#include "service/web_config.hpp"
#include "util/unique_fd.hpp"

#include <openssl/sha.h>
#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace fizzhost::service {

/// The outcome of one step: done, would block (wait for the next readiness), or the connection is gone.
enum class Io { Ready, Wait, Closed };

struct HttpConnection {
    using Clock = std::chrono::steady_clock;
    // Draining: answered and closing; what the client still sends is read and dropped until it
    // closes too (or the loop's linger passes), so unread bytes do not turn our close into a reset
    // that destroys the answer before the client reads it.
    enum class State { Reading, Authorizing, Writing, Draining };
    struct SslFree {
        void operator()(SSL* s) const { SSL_free(s); }
    };

    uint64_t id = 0;
    UniqueFd fd;
    std::unique_ptr<SSL, SslFree> ssl;  // null: plain HTTP
    bool handshaken = false, closed = false, closeAfter = false;
    State state = State::Reading;
    std::string in, out;  // received and not yet parsed; the response being written
    size_t sent = 0;      // of `out`
    unsigned requests = 0;
    Clock::time_point since, deadline;  // since: waiting for a request from then
    // While Authorizing: the request, and whose password is being checked against which settings.
    HttpRequest pending;
    std::shared_ptr<const WebSettings> checkedWith;
    std::string login;
    std::array<unsigned char, SHA256_DIGEST_LENGTH> loginDigest{};
    bool knownUser = false;

    /// TLS: one step of the handshake; Ready once done. A failed one is Closed, after a plain 400
    /// when the client spoke plain HTTP to the TLS port (as Go's servers do).
    Io handshake();
    /// Appends what the socket has to `in`, at most enough to tell a head over kMaxRequestHead.
    Io readMore();
    /// Writes `out` from `sent`; Ready once all of it is written.
    Io flush();
    /// Reads and drops whatever comes until the peer closes (Closed) or nothing more is there (Wait).
    Io drain();
    /// Sends close_notify (TLS, best effort) and closes the socket. Idempotent.
    void close();
};

}  // namespace fizzhost::service
