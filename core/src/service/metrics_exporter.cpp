#include "service/metrics_exporter.hpp"

#include "service/http_server.hpp"
#include "service/status_view.hpp"
#include "util/error.hpp"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>

namespace fizzhost::service {

// Builds every status-derived family at each Collect(): nothing is cached, so a variant that was
// swapped out leaves no stale series behind.
class MetricsExporter::StatusCollectable : public prometheus::Collectable {
public:
    explicit StatusCollectable(StatusSource status) : status_(std::move(status)) {}
    std::vector<prometheus::MetricFamily> Collect() const override {
        try {
            return statusMetrics(status_());
        } catch (const std::exception& e) {
            // A scrape must not take the host down; the missing series show the problem.
            spdlog::warn("metrics: reading the host's status failed: {}", e.what());
            return {};
        }
    }

private:
    StatusSource status_;
};

MetricsExporter::MetricsExporter(const std::string& listen, StatusSource status)
    : MetricsExporter(MetricsOptions{listen, config::kDefaultMetricsConnections, nullptr}, std::move(status)) {}

MetricsExporter::MetricsExporter(const MetricsOptions& options, StatusSource status)
    : registry_(std::make_shared<prometheus::Registry>()),
      statusCollectable_(std::make_shared<StatusCollectable>(std::move(status))) {
    auto& reloads = prometheus::BuildCounter()
                        .Name("fizzhost_reloads_total")
                        .Help("Reloads asked for (SIGHUP, fizzhost reload or a config change), by outcome")
                        .Register(*registry_);
    reloadsOk_ = &reloads.Add({{"result", "success"}});
    reloadsFailed_ = &reloads.Add({{"result", "failure"}});
    reloadDuration_ = &prometheus::BuildHistogram()
                           .Name("fizzhost_reload_duration_seconds")
                           .Help("Time from a reload's start to its outcome (config read, programs verified, swap)")
                           .Register(*registry_)
                           .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                                             1, 2.5, 5, 10});
    prometheus::BuildGauge()
        .Name("fizzhost_build_info")
        .Help("The fizzhost build serving these metrics")
        .Register(*registry_)
        .Add({{"version", FIZZHOST_VERSION}})
        .Set(1);
    // Collected on the server's thread: a scrape reads the status under the host's lock, briefly.
    auto body = [this] {
        auto families = registry_->Collect();
        auto status = statusCollectable_->Collect();
        families.insert(families.end(), std::make_move_iterator(status.begin()), std::make_move_iterator(status.end()));
        return prometheus::TextSerializer().Serialize(families);
    };
    HttpLimits limits;
    limits.maxConnections = options.maxConnections;
    server_ = std::make_unique<HttpServer>(options.listen, "/metrics", body, limits, options.web);
}

MetricsExporter::~MetricsExporter() = default;

int MetricsExporter::port() const { return server_->port(); }

std::string MetricsExporter::url() const {
    return std::string(server_->settings()->tls ? "https://" : "http://") + server_->address() + "/metrics";
}

void MetricsExporter::setWebSettings(std::shared_ptr<const WebSettings> web) { server_->setSettings(std::move(web)); }

void MetricsExporter::recordReload(bool ok, std::chrono::duration<double> duration) {
    (ok ? reloadsOk_ : reloadsFailed_)->Increment();
    reloadDuration_->Observe(duration.count());
}

}  // namespace fizzhost::service
