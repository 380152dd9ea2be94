// What became of a reload: when it ran, what asked for it, whether the new config went live and
// why not, and how long it took. The daemon keeps the last one for `fizzhost status`, and the
// control socket hands one back to `fizzhost reload`.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace fizzhost::service {

enum class ReloadTrigger { Signal, Control, ConfigWatch };

/// "SIGHUP", "control" (fizzhost reload) or "config watch" (watch_config).
const char* toString(ReloadTrigger trigger);

struct ReloadRecord {
    std::chrono::system_clock::time_point at;  // when it started
    ReloadTrigger trigger = ReloadTrigger::Signal;
    bool ok = false;     // the new config is live on every interface
    std::string reason;  // why not (empty when ok)
    std::chrono::duration<double> duration{};

    /// {"time": ISO 8601 UTC, "trigger", "result": "success"|"refused", "reason" (when refused),
    /// "duration_ms"}: the shape of status's "last_reload" and of the control socket's answer.
    nlohmann::json toJson() const;
};

/// One line for people: "2026-11-25T17:03:41Z by SIGHUP: refused after 3.2 ms: <reason>".
/// Takes the JSON form (what `fizzhost status` receives); tolerates missing keys.
std::string describeReload(const nlohmann::json& record);

/// The last reload, written by the thread that reloads and read by status readers. Thread-safe.
class LastReload {
public:
    void set(ReloadRecord record);
    /// The last record as JSON, or null when the host has not reloaded since it started.
    nlohmann::json json() const;

private:
    mutable std::mutex mutex_;
    std::optional<ReloadRecord> last_;
};

}  // namespace fizzhost::service
