#include "util/phase_times.hpp"

#include <cstdio>

namespace fizzhost {

void PhaseTimes::restart() {
    steps_.clear();
    last_ = start_ = Clock::now();
}

void PhaseTimes::mark(std::string_view name) {
    const auto now = Clock::now();
    const double ms = std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
    for (auto& s : steps_)
        if (s.name == name) {
            s.ms += ms;
            ++s.count;
            return;
        }
    steps_.push_back({std::string(name), ms, 1});
}

double PhaseTimes::totalMs() const { return std::chrono::duration<double, std::milli>(Clock::now() - start_).count(); }

std::string PhaseTimes::summary() const {
    std::string out;
    for (const auto& s : steps_) {
        char buf[64];
        std::snprintf(buf, sizeof buf, " %.2f ms", s.ms);
        out += (out.empty() ? "" : ", ") + s.name + buf;
        if (s.count > 1) out += " (" + std::to_string(s.count) + "x)";
    }
    return out;
}

}  // namespace fizzhost
