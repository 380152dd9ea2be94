// The service manager's notify protocol (sd_notify(3)): readiness, reloads, stopping, a status
// line and the watchdog. Every call is a no-op when NOTIFY_SOCKET is not set, so the daemon talks
// the same way in a terminal and under systemd.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace fizzhost::service {

class Notifier {
public:
    /// Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID from the environment.
    Notifier();

    /// READY=1 with STATUS=`status`: every interface is attached.
    void ready(const std::string& status);
    /// RELOADING=1 with MONOTONIC_USEC=now, as Type=notify-reload expects before a reload starts.
    void reloading();
    /// READY=1 again after a reload, whatever its outcome (a refused reload keeps the host running).
    void reloaded(const std::string& status);
    /// STOPPING=1: shutdown has begun.
    void stopping();
    /// WATCHDOG=1. Call at least every watchdogInterval().
    void watchdog();
    /// Half of WATCHDOG_USEC when the manager asked for pings (WatchdogSec=), else nullopt.
    std::optional<std::chrono::microseconds> watchdogInterval() const { return watchdogInterval_; }

private:
    void send(const std::string& message);

    bool enabled_ = false;
    std::optional<std::chrono::microseconds> watchdogInterval_;
};

}  // namespace fizzhost::service
