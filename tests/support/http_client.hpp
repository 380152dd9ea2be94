// A raw HTTP/1.1 client for the /metrics tests: connect on 127.0.0.1, send bytes, read one response
// (head and Content-Length body) with a bound on the wait, and tell when the server closed.
#pragma once

#include "runtime/status/host_status.hpp"
#include "util/unique_fd.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

namespace fizzhost::test {

using Clock = std::chrono::steady_clock;

/// A host status with one interface and one variant: enough for /metrics to have series to serve.
inline runtime::HostStatus someStatus() {
    runtime::HostStatus s;
    runtime::InterfaceStatus ifc;
    ifc.name = "eth0";
    runtime::VariantStatus v;
    v.variant = "baseline";
    v.plugin = "fizz";
    v.version = "1.0.0";
    v.counts.packets = 42;
    ifc.variants.push_back(v);
    s.interfaces.push_back(ifc);
    return s;
}

inline UniqueFd connectTo(int port) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

inline void sendAll(int fd, const std::string& text) {
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
        REQUIRE(n > 0);
        off += size_t(n);
    }
}

struct Response {
    int status = 0;
    std::string head, body;
    bool closed = false;  // the server closed the connection after it
};

// Reads one response (head, then Content-Length bytes unless `headOnly`), waiting at most
// `timeout` in all; nullopt when it did not come whole in time. Reads no byte past the response,
// so pipelined responses are read one by one.
inline std::optional<Response> readResponse(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                            bool headOnly = false) {
    const auto deadline = Clock::now() + timeout;
    std::string got;
    size_t need = std::string::npos;
    Response r;
    for (;;) {
        if (need == std::string::npos && got.size() >= 4 && got.compare(got.size() - 4, 4, "\r\n\r\n") == 0) {
            r.head = got.substr(0, got.size() - 2);
            const auto cl = r.head.find("Content-Length: ");
            const size_t length = cl == std::string::npos ? 0 : std::stoul(r.head.substr(cl + 16));
            need = got.size() + (headOnly ? 0 : length);
            r.status = std::stoi(r.head.substr(9, 3));
        }
        if (need != std::string::npos && got.size() >= need) {
            r.body = got.substr(r.head.size() + 2);
            r.closed = r.head.find("Connection: close") != std::string::npos;
            return r;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return std::nullopt;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, int(left)) <= 0) continue;
        char buf[16384];
        // The head a byte at a time (its end is not known before), the body exactly.
        const size_t want = need == std::string::npos ? 1 : std::min(sizeof buf, need - got.size());
        const ssize_t n = ::recv(fd, buf, want, 0);
        if (n <= 0) return std::nullopt;
        got.append(buf, size_t(n));
    }
}

inline std::optional<Response> scrape(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    UniqueFd fd = connectTo(port);
    sendAll(fd.get(), "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    return readResponse(fd.get(), timeout);
}

// True once the server closed `fd` (EOF or reset), reading and dropping whatever it sent first.
inline bool closedByServer(int fd, std::chrono::milliseconds wait, std::string* sent = nullptr) {
    const auto deadline = Clock::now() + wait;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        pollfd p{fd, POLLIN | POLLRDHUP, 0};
        if (::poll(&p, 1, int(std::max<long>(left, 0))) <= 0) return false;
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN)) return true;
        if (n > 0 && sent) sent->append(buf, size_t(n));
    }
}


}  // namespace fizzhost::test
