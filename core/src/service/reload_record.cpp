#include "service/reload_record.hpp"

#include <fmt/format.h>

#include <ctime>

namespace fizzhost::service {
namespace {

std::string isoTime(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

const char* toString(ReloadTrigger trigger) {
    switch (trigger) {
    case ReloadTrigger::Signal: return "SIGHUP";
    case ReloadTrigger::Control: return "control";
    case ReloadTrigger::ConfigWatch: return "config watch";
    }
    return "?";
}

nlohmann::json ReloadRecord::toJson() const {
    nlohmann::json j = {{"time", isoTime(at)},
                        {"trigger", toString(trigger)},
                        {"result", ok ? "success" : "refused"},
                        {"duration_ms", std::chrono::duration<double, std::milli>(duration).count()}};
    if (!ok) j["reason"] = reason;
    return j;
}

std::string describeReload(const nlohmann::json& r) {
    auto text = [&](const char* key) { return r.contains(key) && r[key].is_string() ? r[key].get<std::string>() : "?"; };
    const double ms = r.contains("duration_ms") && r["duration_ms"].is_number() ? r["duration_ms"].get<double>() : 0.0;
    std::string line = fmt::format("{} by {}: {} after {:.1f} ms", text("time"), text("trigger"), text("result"), ms);
    if (r.contains("reason") && r["reason"].is_string()) line += ": " + r["reason"].get<std::string>();
    return line;
}

void LastReload::set(ReloadRecord record) {
    std::lock_guard lock(mutex_);
    last_ = std::move(record);
}

nlohmann::json LastReload::json() const {
    std::lock_guard lock(mutex_);
    return last_ ? last_->toJson() : nlohmann::json();
}

}  // namespace fizzhost::service
