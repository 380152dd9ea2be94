#include "service/reload_record.hpp"

#include "util/iso_time.hpp"

namespace fizzhost::service {

const char* toString(ReloadTrigger trigger) {
    switch (trigger) {
    case ReloadTrigger::Signal: return "SIGHUP";
    case ReloadTrigger::Control: return "control";
    case ReloadTrigger::ConfigWatch: return "config watch";
    }
    return "?";
}

runtime::ReloadSummary ReloadRecord::summary() const {
    return {isoTime(at), toString(trigger), ok, ok ? std::string() : reason,
            std::chrono::duration<double, std::milli>(duration).count()};
}

void LastReload::set(ReloadRecord record) {
    std::lock_guard lock(mutex_);
    last_ = std::move(record);
}

std::optional<runtime::ReloadSummary> LastReload::summary() const {
    std::lock_guard lock(mutex_);
    if (!last_) return std::nullopt;
    return last_->summary();
}

}  // namespace fizzhost::service
