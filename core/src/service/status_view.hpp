// The host's status (runtime/status/host_status.hpp) for the service layer: Prometheus metric
// families and the one-line summary the service manager shows. The one place the status becomes
// metrics.
#pragma once

#include "runtime/status/host_status.hpp"

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace fizzhost::service {

/// The per-interface and per-variant counters of `status` as Prometheus metric families, built
/// afresh (a variant that left has no series any more). A figure the status lacks (a cost nobody
/// measured) yields no sample rather than a zero that was never counted. Never throws but bad_alloc.
std::vector<prometheus::MetricFamily> statusMetrics(const runtime::HostStatus& status);

/// "fzt0: fizzbuzz 1.0.0; eth1: fizz 1.0.0 + fibonacci 1.0.0 at 10%": what runs where, for
/// systemd's STATUS= (shown by `systemctl status`).
std::string statusLine(const runtime::HostStatus& status);

}  // namespace fizzhost::service
