// The host's status: what runs and what it counted, built under the host's lock by the status
// room (runtime/status/status_builder.hpp).
#include "runtime/host/host.hpp"

#include "runtime/status/status_builder.hpp"

#include <algorithm>
#include <tuple>

namespace fizzhost::runtime {

HostStatus Host::status() const {
    std::lock_guard lock(mutex_);
    HostStatus out;
    out.runTimeStats = runStats_.on();
    out.insecurePlugins = insecure_;
    if (pins_) out.stateRoot = pins_->root().string();
    out.keepOnExit = cfg_.service.onExit == config::OnExit::Keep;
    if (writer_) out.output = outputStatus(*writer_);
    const auto now = RolloutClock::now();
    for (const auto& [name, a] : attachments_) {
        const RolloutBook::Entry* r = rollouts_.find(name);
        out.interfaces.push_back(attachedStatus(name, *a, runStats_.on(), r ? r->controller.get() : nullptr, now));
        if (auto l = lostAtStart_.find(name); l != lostAtStart_.end()) {
            out.interfaces.back().lostAtStart = l->second.messages;
            out.interfaces.back().lostAtStartReasons = l->second.reasons;
        }
        for (const auto* s : {a->baseline.get(), a->candidate.get()})
            if (s) uncounted_.check(name, *s);
    }
    for (const auto& [name, g] : gone_.all()) out.interfaces.push_back(goneStatus(name, g));
    for (const auto& d : decoders_->stats())
        out.decoders.push_back(DecoderStatus{d.plugin, d.version, d.sha256, d.file.string(), d.confined, int64_t(d.pid),
                                             d.starts, d.restarts, d.lastReason, d.undecodable, d.disabled,
                                             d.disabledReason});
    std::sort(out.decoders.begin(), out.decoders.end(), [](const DecoderStatus& a, const DecoderStatus& b) {
        return std::tie(a.plugin, a.version, a.sha256) < std::tie(b.plugin, b.version, b.sha256);
    });
    return out;
}

std::optional<RolloutFigures> Host::rolloutFigures(const std::string& ifname) const {
    std::lock_guard lock(mutex_);
    auto it = attachments_.find(ifname);
    return it == attachments_.end() ? std::nullopt : it->second->rolloutFigures();
}

}  // namespace fizzhost::runtime
