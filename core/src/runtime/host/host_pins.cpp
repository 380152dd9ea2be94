// The host's side of pinned state: opening the state root, adopting at start, pinning after each
// commit, and leaving at exit. The store's layout is in pin_store.hpp, the adoption rules in
// adoption.hpp.
#include "bpf/sync.hpp"
#include "runtime/pinned/adoption.hpp"
#include "runtime/host/host.hpp"
#include "util/error.hpp"

#include <spdlog/spdlog.h>

namespace fizzhost::runtime {

void Host::openPins() {
    try {
        pins_ = std::make_unique<PinStore>(cfg_.service.stateRoot);
    } catch (const Error& e) {
        if (cfg_.service.onExit == config::OnExit::Keep || e.code() == EWOULDBLOCK || e.code() == EXDEV) throw;
        spdlog::warn("pinned state unavailable ({}); running without it: a restart will attach anew", e.what());
    }
}

void Host::sweepUnconfiguredPins() {
    if (!pins_) return;
    for (const auto& name : pins_->interfaces()) {
        if (cfg_.findInterface(name)) continue;
        // What waits in its regions is delivered before they go: opened first, drained once the
        // link is detached and no program runs any more.
        std::vector<std::shared_ptr<MessageSource>> sources;
        std::vector<std::string> notes;
        try {
            const PinRecord r = pins_->read(name);
            std::vector<PinnedVariant> all = r.variants;
            if (r.pending) all.insert(all.end(), r.pending->variants.begin(), r.pending->variants.end());
            for (const auto& v : all) try {
                    sources.push_back(drainOnlySource(*pins_, r, v, name, catalog_, *writer_, *decoders_, notes));
                } catch (const Error& e) {
                    spdlog::error("interface '{}': counted as lost at start: what waited in its {} {} {} (number "
                                  "unknown): {}",
                                  name, v.variant, v.plugin, v.version, e.what());
                }
        } catch (const Error& e) {
            spdlog::error("interface '{}': counted as lost at start: what waited in its pinned regions (number "
                          "unknown): the record is unreadable: {}",
                          name, e.what());
        }
        try {
            spdlog::info("pinned state for interface '{}', which the config no longer names: {}", name,
                         pins_->remove(name));
        } catch (const Error& e) {
            spdlog::warn("pinned state for interface '{}', which the config no longer names, could not be removed: {}",
                         name, e.what());
        }
        if (sources.empty()) continue;
        try {
            bpf::waitForInflightPrograms();
        } catch (const Error& e) {
            spdlog::warn("{}", e.what());
        }
        uint64_t delivered = 0;
        for (auto& s : sources) {
            countPoppedUnwritten(name, *s);
            pump_->add(s);
            pump_->retire(s);
            delivered += s->delivered();
        }
        spdlog::info("interface '{}': delivered the {} messages that waited in its pinned regions", name, delivered);
    }
}

void Host::countPoppedUnwritten(const std::string& ifname, const MessageSource& s) {
    if (const uint64_t n = s.lostBeforeOpen())
        countLostAtStart(ifname, n,
                         fmt::format("{} message(s) of {} {} the host before had popped from its queue and not "
                                     "written out when it stopped (the queue transport pops for good; the ring keeps "
                                     "them until written)",
                                     n, s.classifier().plugin().name(), s.classifier().plugin().version()));
}

void Host::countLostAtStart(const std::string& ifname, uint64_t messages, const std::string& why) {
    auto& l = lostAtStart_[ifname];
    l.messages += messages;
    l.reasons.push_back(why);
    spdlog::error("interface '{}': counted as lost at start: {}", ifname, why);
}

std::pair<Attachment*, bool> Host::adoptPinned(const config::Interface& ifc) {
    if (!pins_ || !std::filesystem::exists(pins_->folder(ifc.name))) return {nullptr, false};
    try {
        const PinRecord record = pins_->read(ifc.name);
        AdoptedState adopted = runtime::adoptPinned(*pins_, record, ifc, cfg_, catalog_, *writer_, *decoders_);
        Attachment& a = *adopted.attachment;
        for (auto* s : {&a.baseline, &a.candidate})
            if (*s) {
                countPoppedUnwritten(ifc.name, **s);
                pump_->add(*s);  // the messages that waited while no host ran, then the new ones
            }
        for (const auto& note : adopted.notes) spdlog::warn("interface '{}': {}", ifc.name, note);
        // Instances the host before was replacing (or about to start): nothing runs them; what
        // waits in them is delivered now, and their pins go with the record written below.
        uint64_t leftoverMessages = 0;
        for (auto& s : adopted.leftovers) {
            countPoppedUnwritten(ifc.name, *s);
            const uint64_t before = s->delivered();
            pump_->add(s);
            pump_->retire(s);
            uncounted_.check(ifc.name, *s);
            a.retired.add(*s);
            leftoverMessages += s->delivered() - before;
        }
        for (const auto& why : adopted.unreachable)
            countLostAtStart(ifc.name, 0,
                             "an instance the host before left cannot be reached; what waited in it is lost (number "
                             "unknown): " + why);
        if (!adopted.leftovers.empty())
            spdlog::info("interface '{}': delivered {} messages waiting in {} program instances the host before was "
                         "retiring or starting",
                         ifc.name, leftoverMessages, adopted.leftovers.size());
        // The outcome the host before did not write, or pins found missing: the record is made whole.
        if (record.pending || !adopted.notes.empty()) pins_->save(a, record.rollout);
        std::string running = a.baseline->classifier().plugin().name() + " " + a.baseline->classifier().plugin().version();
        if (a.candidate)
            running += fmt::format(" + candidate {} {} at {}%", a.candidate->classifier().plugin().name(),
                                   a.candidate->classifier().plugin().version(), a.dispatcher->percent());
        const fizz_counters c = a.baseline->counters();
        spdlog::info("interface '{}': adopted pinned state: link id {}, {} (program id {}), {} packets counted so far; {}",
                     ifc.name, a.link.id(), running, a.link.programId(), c.packets,
                     adopted.samePrograms ? "same plugins, module files and settings: programs kept"
                                          : "loading the configured programs (" + adopted.differences + ")");
        Attachment* raw = adopted.attachment.get();
        attachments_[ifc.name] = std::move(adopted.attachment);
        return {raw, !adopted.samePrograms};
    } catch (const Error& e) {
        salvagePinned(ifc, e.what());
        return {nullptr, false};
    }
}

void Host::resumeRollout(RolloutBook& book, const config::Interface& ifc) {
    if (!pins_ || !book.find(ifc.name) || !std::filesystem::exists(pins_->folder(ifc.name))) return;
    try {
        const std::string resumed = book.resume(ifc.name, pins_->read(ifc.name).rollout, RolloutClock::now());
        if (!resumed.empty()) spdlog::info("interface '{}': {}", ifc.name, resumed);
    } catch (const Error& e) {
        spdlog::debug("interface '{}': no rollout progress to resume: {}", ifc.name, e.what());
    }
}

void Host::savePins(const Attachment& a) noexcept {
    if (!pins_) return;
    try {
        pins_->save(a, rollouts_.progress(a.cfg.name));
    } catch (const std::exception& e) {
        spdlog::warn("interface '{}': pinning its state failed: {}; a restart attaches it anew", a.cfg.name, e.what());
    }
}

bool Host::leave(Attachment& a) {
    if (!pins_ || cfg_.service.onExit == config::OnExit::Detach) {
        detach(a);
        return false;
    }
    // The programs keep running: what they emit from now on waits in their pinned regions for the
    // next host. What waits now is delivered by this one.
    for (auto* s : {&a.baseline, &a.candidate})
        if (*s) pump_->retire(*s);
    spdlog::info("interface '{}': left attached (on_exit = \"keep\"): link id {}, program id {}, pinned under {}",
                 a.cfg.name, a.link.id(), a.link.programId(), pins_->folder(a.cfg.name).string());
    a.link.release();
    return true;
}

}  // namespace fizzhost::runtime
