// The status document (Host::status(), the control socket's answer) read for the service layer:
// Prometheus metric families and the one-line summary the service manager shows.
//
// This file is the only place that knows the status JSON's shape on behalf of metrics and
// notifications: when a key moves, adapt it here (and its unit test), nowhere else.
#pragma once

#include <nlohmann/json.hpp>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace fizzhost::service {

/// The per-interface and per-variant counters of `status` as Prometheus metric families, built
/// afresh (a variant that left has no series any more). Keys missing from `status` yield no
/// sample rather than a zero that was never counted. Never throws for a well-formed document of
/// another shape; throws nlohmann::json::exception only for mistyped values.
std::vector<prometheus::MetricFamily> statusMetrics(const nlohmann::json& status);

/// "fzt0: fizzbuzz 1.0.0; eth1: fizz 1.0.0 + fibonacci 1.0.0 at 10%": what runs where, for
/// systemd's STATUS= (shown by `systemctl status`).
std::string statusLine(const nlohmann::json& status);

}  // namespace fizzhost::service
