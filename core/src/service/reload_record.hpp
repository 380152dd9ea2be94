// What became of a reload: when it ran, what asked for it, whether the new config went live and
// why not, and how long it took. The daemon keeps the last one for `fizzhost status`, and the
// control socket hands one back to `fizzhost reload`.
#pragma once

#include "runtime/status/host_status.hpp"

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

    /// As status reports it (its "last_reload") and the control socket answers a reload request.
    runtime::ReloadSummary summary() const;
};

/// The last reload, written by the thread that reloads and read by status readers. Thread-safe.
class LastReload {
public:
    void set(ReloadRecord record);
    /// The last record, or nullopt when the host has not reloaded since it started.
    std::optional<runtime::ReloadSummary> summary() const;

private:
    mutable std::mutex mutex_;
    std::optional<ReloadRecord> last_;
};

}  // namespace fizzhost::service
