// `[metrics] listen`: a Prometheus endpoint (prometheus-cpp's civetweb server) serving /metrics.
// Host counters are read from the host's status when scraped; reload outcomes, which the host
// does not keep, are recorded here by the daemon.
#pragma once

#include "runtime/status/host_status.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace prometheus {
class Exposer;
class Registry;
class Histogram;
template <typename T>
class Family;
class Counter;
}  // namespace prometheus

namespace fizzhost::service {

class MetricsExporter {
public:
    using StatusSource = std::function<runtime::HostStatus()>;

    /// Listens on `listen` ("HOST:PORT"; port 0 picks a free one) and serves /metrics from
    /// `status`, called on the server's threads at each scrape. Throws Error when it cannot listen.
    MetricsExporter(const std::string& listen, StatusSource status);
    ~MetricsExporter();
    MetricsExporter(const MetricsExporter&) = delete;
    MetricsExporter& operator=(const MetricsExporter&) = delete;

    /// The port it listens on (the chosen one when asked for port 0).
    int port() const;
    /// Counts one reload attempt and its duration. Thread-safe.
    void recordReload(bool ok, std::chrono::duration<double> duration);

private:
    class StatusCollectable;
    std::shared_ptr<prometheus::Registry> registry_;
    std::shared_ptr<StatusCollectable> statusCollectable_;
    prometheus::Counter* reloadsOk_ = nullptr;
    prometheus::Counter* reloadsFailed_ = nullptr;
    prometheus::Histogram* reloadDuration_ = nullptr;
    std::unique_ptr<prometheus::Exposer> exposer_;  // last: stops serving before the rest goes
};

}  // namespace fizzhost::service
