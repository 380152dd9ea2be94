#include "service/notifier.hpp"

#include "util/error.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <ctime>

namespace fizzhost::service {
namespace {

uint64_t monotonicUsec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
}

}  // namespace

Notifier::Notifier() {
    const char* socket = std::getenv("NOTIFY_SOCKET");
    enabled_ = socket && *socket;
    uint64_t usec = 0;
    // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, names this process.
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdogInterval_ = std::chrono::microseconds(usec / 2);
    if (enabled_) spdlog::info("service manager notifications on {}{}", socket,
                               watchdogInterval_ ? " (watchdog every " + std::to_string(watchdogInterval_->count() / 1000) + " ms)" : "");
}

void Notifier::ready(const std::string& status) { send("READY=1\nSTATUS=" + status); }

void Notifier::reloading() {
    send("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=" + std::to_string(monotonicUsec()));
}

void Notifier::reloaded(const std::string& status) { ready(status); }

void Notifier::stopping() { send("STOPPING=1\nSTATUS=stopping"); }

void Notifier::watchdog() {
    if (watchdogInterval_) send("WATCHDOG=1");
}

void Notifier::send(const std::string& message) {
    if (!enabled_) return;
    // The manager going away must not stop the host: say so and carry on.
    if (int r = sd_notify(0, message.c_str()); r < 0)
        spdlog::warn("service manager notification failed: {}", errnoText(-r));
}

}  // namespace fizzhost::service
