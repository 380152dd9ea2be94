// The host's side of the interface lifecycle: the kernel detaches an XDP link by itself when its
// device is deleted, but nothing else of ours notices: the link would be reported attached, the
// sources kept, and a re-created interface of the same name left bare. rtnetlink tells us (the
// link watch, drained by the caller's loop through followLinkChanges()); these functions keep
// attachments_ and gone_ true.
#include "runtime/host/host.hpp"

#include "runtime/reload/resolve.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <net/if.h>
#include <spdlog/spdlog.h>

namespace fizzhost::runtime {

void Host::startLinkWatch() {
    try {
        linkWatch_ = std::make_unique<LinkWatch>();
    } catch (const Error& e) {
        spdlog::warn("{}; a deleted interface will not be noticed", e.what());
        return;
    }
    resyncLinks();  // a device deleted between attaching and subscribing sent its news to nobody
}

int Host::linkChangesFd() const { return linkWatch_ ? linkWatch_->fd() : -1; }

void Host::followLinkChanges() {
    if (!linkWatch_) return;
    std::lock_guard lock(mutex_);
    try {
        linkWatch_->drain([this](const LinkChange& change) { onLinkChange(change); });
    } catch (const std::exception& e) {
        spdlog::error("interface changes: {}", e.what());
    }
}

void Host::onLinkChange(const LinkChange& change) {
    if (!pump_) return;
    try {
        switch (change.kind) {
        case LinkChange::Kind::Removed:
            if (auto name = attachedName(change.ifindex))
                retireGone(*name, "was deleted: the kernel detached its XDP program");
            break;
        case LinkChange::Kind::Added:
            // A rename away from a configured name: what the config names is no longer there.
            if (auto name = attachedName(change.ifindex); name && !change.name.empty() && change.name != *name)
                retireGone(*name, "was renamed to '" + printable(change.name) + "'");
            if (gone_.contains(change.name)) attachReturned(change.name);
            break;
        case LinkChange::Kind::Lost: resyncLinks(); break;
        }
    } catch (const std::exception& e) {
        spdlog::error("interface change ({} ifindex {}): {}", change.name, change.ifindex, e.what());
    }
}

void Host::resyncLinks() {
    std::vector<std::string> missing;
    for (const auto& [name, a] : attachments_) {
        char now[IF_NAMESIZE] = {};
        if (!if_indextoname(unsigned(a->ifindex), now) || name != now) missing.push_back(name);
    }
    const std::vector<std::string> back = gone_.returned();
    for (const auto& name : missing) retireGone(name, "is no longer present under that name");
    for (const auto& name : back) attachReturned(name);
}

std::optional<std::string> Host::attachedName(int ifindex) const {
    for (const auto& [name, a] : attachments_)
        if (a->ifindex == ifindex) return name;
    return std::nullopt;
}

void Host::retireGone(const std::string& name, const std::string& why) {
    auto it = attachments_.find(name);
    if (it == attachments_.end()) return;
    Attachment& a = *it->second;
    spdlog::warn("interface '{}' (ifindex {}) {}; retiring its classifier (draining its messages, releasing link id "
                 "{}); {} is attached again when an interface of that name appears",
                 name, a.ifindex, why, a.link.id(), a.cfg.classifier);
    detach(a);  // releases the link, waits for programs in flight, drains and retires the sources
    gone_.retire(a);  // the sources are drained and still held: their counts are final
    attachments_.erase(it);
}

void Host::attachReturned(const std::string& name) {
    const GoneInterface* g = gone_.find(name);
    if (!g) return;
    const config::Interface cfg = g->cfg;
    spdlog::info("interface '{}' appeared again (ifindex {}): attaching its configured classifier {}", name,
                 if_nametoindex(name.c_str()), cfg.classifier);
    try {
        std::vector<std::unique_ptr<ReloadPlan>> plans;
        plans.push_back(prepareReload(reloadContext(), cfg, nullptr, false));
        commit(*plans.front());
        retireAndRecord(plans);
        gone_.erase(name);
        settleSpares();
    } catch (const Error& e) {
        spdlog::error("interface '{}' appeared again but its classifier could not be attached: {}; it stays gone "
                      "(a SIGHUP or the next change to the interface retries)",
                      name, e.what());
    }
}

// Reload of an interface that is configured and gone: nothing to attach, but the names it would
// use must still resolve, so a broken config is refused now and not when the device returns.
// Returns false when the interface is not gone (or is back): then it is prepared like any other.
bool Host::prepareGone(const config::Interface& ifc) {
    if (!gone_.contains(ifc.name) || if_nametoindex(ifc.name.c_str()) != 0) return false;
    try {
        findPlugin(catalog_, cfg_, ifc, ifc.classifier, ifc.classifierAt);
        if (ifc.rollout) findPlugin(catalog_, cfg_, ifc, ifc.rollout->candidate, ifc.candidateAt);
    } catch (const Error& e) {
        throw Error(placed(cfg_, ifc, e.what()), e.code());
    }
    return true;
}

}  // namespace fizzhost::runtime
