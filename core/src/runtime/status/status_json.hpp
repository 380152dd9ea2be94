// The host's status as JSON: the control socket's answer, which `fizzhost status` reads back. The
// one place that knows the document's keys, both ways; nothing else in the program reads status
// JSON by key.
#pragma once

#include "runtime/status/host_status.hpp"

#include <nlohmann/json.hpp>

namespace fizzhost::runtime {

/// {"interfaces": [...], "run_time_stats", "insecure_plugins", "state_root", "on_exit",
/// "last_reload", and with an output "events_written", "events_lost", "write_errors",
/// "last_write_error" (after a failed write), "events_reopens"}. Never throws but bad_alloc.
nlohmann::json toJson(const HostStatus& status);
/// The inverse of toJson(HostStatus). A key that is missing reads as its default (an older host may
/// not send it). Throws Error (EPROTO) naming the problem when a value has the wrong type.
HostStatus hostStatusFromJson(const nlohmann::json& j);

/// {"time", "trigger", "result": "success"|"refused", "reason" (when refused), "duration_ms"}: the
/// shape of status's "last_reload" and of the control socket's answer to a reload request.
nlohmann::json toJson(const ReloadSummary& reload);
/// The inverse of toJson(ReloadSummary), as lenient and as strict as hostStatusFromJson.
ReloadSummary reloadSummaryFromJson(const nlohmann::json& j);

}  // namespace fizzhost::runtime
