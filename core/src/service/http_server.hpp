// The /metrics transport: a small HTTP/1.1 server of our own, one thread, epoll, non-blocking
// sockets, optional TLS (OpenSSL, in the same loop) and basic auth (bcrypt, checked off the loop).
//
// Why not prometheus-cpp's Exposer: it is civetweb, which gives each connection a worker thread
// until the request completes or times out. With the one worker a scrape needs, a client that
// sends half a request holds that worker for civetweb's request timeout (~30 s) and every scrape
// waits behind it; more workers only raise the number of idle clients it takes. Here a connection
// is a few buffers in one loop: nobody waits for anybody, and every connection has deadlines.
// prometheus-cpp still builds the metrics (registry, TextSerializer); only the transport is ours.
//
// Rules, per connection:
// - a request head (and before it a TLS handshake) must be complete within `requestTimeout` of
//   the connection's start or of the previous response; else 408 (when it sent part of one) and
//   closed. A response must be written within `responseTimeout`, else closed.
// - at most `maxConnections` at once. One more takes the place of the connection that has waited
//   longest for its request (never one being answered); when every one is being answered, the
//   new one is closed at once. Nothing queues: the loop accepts whatever the kernel has.
// - keep-alive (HTTP/1.1, or 1.0 asking for it), at most kMaxRequestsPerConnection requests.
// - GET or HEAD of `path` only: 404 for another path, 405 for another method, 400 for what is not
//   HTTP/1.x, 431 for a head over 8 KiB; a request with a body is answered, then closed.
#pragma once

#include "config/host_config.hpp"
#include "service/web_config.hpp"
#include "util/unique_fd.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace fizzhost::service {

struct HttpLimits {
    size_t maxConnections = config::kDefaultMetricsConnections;
    std::chrono::milliseconds requestTimeout{2000};
    std::chrono::milliseconds responseTimeout{10000};
};

inline constexpr unsigned kMaxRequestsPerConnection = 100;

class HttpServer {
public:
    /// The body served at `path`; runs on the server thread, may throw (answered 500).
    using Body = std::function<std::string()>;

    /// Binds `listen` ("HOST:PORT", "[V6]:PORT"; no host: 127.0.0.1; port 0 picks a free one) and
    /// starts the loop. Throws Error naming `listen` when it cannot.
    HttpServer(const std::string& listen, std::string path, Body body, HttpLimits limits,
               std::shared_ptr<const WebSettings> settings);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    int port() const { return port_; }
    /// "127.0.0.1:9464", "[::]:9464": the address bound, the chosen port included.
    const std::string& address() const { return address_; }
    /// Any thread: new connections and requests use `settings` (TLS context, users) from now on;
    /// a connection's TLS session stays on the context it began with.
    void setSettings(std::shared_ptr<const WebSettings> settings);
    std::shared_ptr<const WebSettings> settings() const;

    /// What the loop did, for logs and tests. Any thread.
    struct Counters {
        std::atomic<uint64_t> accepted{0}, served{0}, displaced{0}, refused{0}, timedOut{0}, authRefused{0};
    };
    const Counters& counters() const { return counters_; }

private:
    class Loop;
    int port_ = 0;
    std::string address_;
    mutable std::mutex settingsMutex_;
    std::shared_ptr<const WebSettings> settings_;
    Counters counters_;
    std::unique_ptr<Loop> loop_;
    std::thread thread_;
};

}  // namespace fizzhost::service
