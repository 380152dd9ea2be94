// `[metrics] listen`: a Prometheus endpoint serving /metrics. prometheus-cpp builds the metrics
// (registry, families, text exposition); the transport is our own (service/http_server.hpp says
// why). Host counters are read from the host's status when scraped; reload outcomes, which the
// host does not keep, are recorded here by the daemon.
#pragma once

#include "config/host_config.hpp"
#include "runtime/status/host_status.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace prometheus {
class Registry;
class Histogram;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace fizzhost::service {

class HttpServer;
struct WebSettings;

/// Where and how /metrics is served (the [metrics] table, its web config loaded).
struct MetricsOptions {
    std::string listen;         // "HOST:PORT"; no host: 127.0.0.1
    size_t maxConnections = config::kDefaultMetricsConnections;
    std::shared_ptr<const WebSettings> web;  // TLS and basic auth; null: plain HTTP, no auth
};

class MetricsExporter {
public:
    using StatusSource = std::function<runtime::HostStatus()>;

    /// Listens on `listen` ("HOST:PORT"; port 0 picks a free one) and serves /metrics from
    /// `status`, called on the server's threads at each scrape. Throws Error when it cannot listen.
    MetricsExporter(const std::string& listen, StatusSource status);
    /// The same with a bound on connections, TLS and basic auth.
    MetricsExporter(const MetricsOptions& options, StatusSource status);
    ~MetricsExporter();
    MetricsExporter(const MetricsExporter&) = delete;
    MetricsExporter& operator=(const MetricsExporter&) = delete;

    /// The port it listens on (the chosen one when asked for port 0).
    int port() const;
    /// "https://127.0.0.1:9464/metrics": what a scraper asks for.
    std::string url() const;
    /// Any thread: the TLS context and users of a reloaded web config, for new connections and
    /// requests from now on.
    void setWebSettings(std::shared_ptr<const WebSettings> web);
    /// Counts one reload attempt and its duration. Thread-safe.
    void recordReload(bool ok, std::chrono::duration<double> duration);

private:
    class StatusCollectable;
    std::shared_ptr<prometheus::Registry> registry_;
    std::shared_ptr<StatusCollectable> statusCollectable_;
    prometheus::Counter* reloadsOk_ = nullptr;
    prometheus::Counter* reloadsFailed_ = nullptr;
    prometheus::Histogram* reloadDuration_ = nullptr;
    std::unique_ptr<HttpServer> server_;  // last: stops serving before the rest goes
};

}  // namespace fizzhost::service
