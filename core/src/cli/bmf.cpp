#include "cli/bmf.hpp"

#include <algorithm>

namespace fizzhost::cli {

nlohmann::json bmfMetric(double value, const std::optional<stats::Interval>& interval) {
    nlohmann::json m = {{"value", value}};
    if (interval) {
        m["lower_value"] = std::min(interval->lower, value);
        m["upper_value"] = std::max(interval->upper, value);
    }
    return m;
}

std::vector<std::string> bmfNames(const std::vector<std::pair<std::string, std::string>>& plugins) {
    std::vector<std::string> out;
    for (const auto& plugin : plugins) {
        // (clang 14 cannot capture a structured binding in a lambda)
        const std::string& name = plugin.first;
        const auto same = std::count_if(plugins.begin(), plugins.end(), [&](const auto& p) { return p.first == name; });
        out.push_back(same > 1 ? name + "@" + plugin.second : name);
    }
    return out;
}

std::string bmfVersus(const std::string& b, const std::string& a) { return b + " vs " + a; }

}  // namespace fizzhost::cli
