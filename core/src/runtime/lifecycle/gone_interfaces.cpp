#include "runtime/lifecycle/gone_interfaces.hpp"

#include "util/iso_time.hpp"

#include <net/if.h>
#include <spdlog/spdlog.h>

namespace fizzhost::runtime {

void GoneInterfaces::retire(const Attachment& a) {
    const InterfaceTotals t = a.totals();
    spdlog::info("interface '{}': final counts: {} packets, {} messages, {} dropped, {} delivered, {} undecodable",
                 a.cfg.name, t.packets, t.emitted, t.dropped, t.delivered, t.undecodable);
    gone_[a.cfg.name] = GoneInterface{a.cfg, a.ifindex, std::chrono::system_clock::now(), t};
}

const GoneInterface* GoneInterfaces::find(const std::string& name) const {
    auto it = gone_.find(name);
    return it == gone_.end() ? nullptr : &it->second;
}

std::vector<std::string> GoneInterfaces::returned() const {
    std::vector<std::string> back;
    for (const auto& [name, g] : gone_)
        if (if_nametoindex(name.c_str()) != 0) back.push_back(name);
    return back;
}

std::string GoneInterfaces::settle(const std::vector<config::Interface>& stillGone, const std::set<std::string>& wanted,
                                   const std::set<std::string>& attached) {
    for (const auto& ifc : stillGone) {
        auto& g = gone_[ifc.name];
        g.cfg = ifc;
        spdlog::warn("reload: interface '{}' is gone (deleted {}): nothing is attached to it; {} is attached when an "
                     "interface of that name appears",
                     ifc.name, isoTime(g.since), ifc.classifier);
    }
    for (auto it = gone_.begin(); it != gone_.end();) {
        if (attached.count(it->first) || !wanted.count(it->first)) {
            if (!wanted.count(it->first)) spdlog::info("interface '{}' (gone) is no longer configured", it->first);
            it = gone_.erase(it);
        } else {
            ++it;
        }
    }
    if (gone_.empty()) return "";
    std::string names;
    for (const auto& [name, g] : gone_) names += (names.empty() ? "" : ", ") + ("'" + name + "'");
    return fmt::format("; {} configured interface(s) gone, waiting for them to appear: {}", gone_.size(), names);
}

}  // namespace fizzhost::runtime
