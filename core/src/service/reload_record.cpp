#include "service/reload_record.hpp"

#include "util/iso_time.hpp"

#include <fmt/format.h>

namespace fizzhost::service {

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
