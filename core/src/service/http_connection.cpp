#include "service/http_connection.hpp"

#include <openssl/err.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace fizzhost::service {
namespace {

bool wouldBlock(int sslError) { return sslError == SSL_ERROR_WANT_READ || sslError == SSL_ERROR_WANT_WRITE; }

}  // namespace

Io HttpConnection::handshake() {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl.get());
    if (r == 1) {
        handshaken = true;
        return Io::Ready;
    }
    if (wouldBlock(SSL_get_error(ssl.get(), r))) return Io::Wait;
    const unsigned long err = ERR_peek_error();
    if (ERR_GET_LIB(err) == ERR_LIB_SSL && ERR_GET_REASON(err) == SSL_R_HTTP_REQUEST) {
        const std::string answer =
            httpResponse(400, "text/plain; charset=utf-8", "Client sent an HTTP request to an HTTPS server.\n", false);
        [[maybe_unused]] ssize_t n = ::send(fd.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
    }
    ERR_clear_error();
    ssl.reset();  // no close_notify after a failed handshake
    close();
    return Io::Closed;
}

Io HttpConnection::readMore() {
    char buf[4096];
    const size_t cap = kMaxRequestHead + 1;  // enough to tell a head too large
    const size_t room = in.size() < cap ? std::min(sizeof buf, cap - in.size()) : 1;
    ssize_t n;
    if (ssl) {
        ERR_clear_error();
        n = SSL_read(ssl.get(), buf, int(room));
        if (n <= 0) {
            if (wouldBlock(SSL_get_error(ssl.get(), int(n)))) return Io::Wait;
            ERR_clear_error();
            close();
            return Io::Closed;
        }
    } else {
        n = ::recv(fd.get(), buf, room, 0);
        if (n < 0 && errno == EINTR) return Io::Ready;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Io::Wait;
        if (n <= 0) {
            close();
            return Io::Closed;
        }
    }
    in.append(buf, size_t(n));
    return Io::Ready;
}

Io HttpConnection::flush() {
    while (sent < out.size()) {
        const char* at = out.data() + sent;
        const size_t left = out.size() - sent;
        ssize_t n;
        if (ssl) {
            ERR_clear_error();
            n = SSL_write(ssl.get(), at, int(std::min<size_t>(left, INT_MAX)));
            if (n <= 0) {
                if (wouldBlock(SSL_get_error(ssl.get(), int(n)))) return Io::Wait;
                ERR_clear_error();
                close();
                return Io::Closed;
            }
        } else {
            n = ::send(fd.get(), at, left, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Io::Wait;
            if (n < 0) {
                close();
                return Io::Closed;
            }
        }
        sent += size_t(n);
    }
    out.clear();
    sent = 0;
    return Io::Ready;
}

Io HttpConnection::drain() {
    char buf[4096];
    for (;;) {
        const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n > 0 || (n < 0 && errno == EINTR)) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Io::Wait;
        close();
        return Io::Closed;
    }
}

void HttpConnection::close() {
    if (closed) return;
    if (ssl && handshaken) {
        ERR_clear_error();
        SSL_shutdown(ssl.get());  // close_notify, best effort
        ERR_clear_error();
    }
    ssl.reset();
    fd.reset();
    closed = true;
}

}  // namespace fizzhost::service
