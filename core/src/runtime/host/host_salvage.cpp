// Pinned state the start cannot adopt (the link runs a program the record does not name, the
// record is unreadable or of another kind, a recorded plugin is gone): the link is kept when it is
// still attached to the configured device in the configured mode (the new programs take it over
// with one bpf_link_update, so no frame passes unclassified), and every region the folder (or the
// record) leads to is drained after that update; what cannot be reached is counted as lost, with
// the reason, in the log, `status` and the metrics. Nothing is thrown away silently.
#include "bpf/map.hpp"
#include "bpf/pin.hpp"
#include "bpf/sync.hpp"
#include "runtime/host/host.hpp"
#include "runtime/instance/ring_sizing.hpp"
#include "runtime/pinned/adoption.hpp"
#include "runtime/reload/resolve.hpp"
#include "util/error.hpp"

#include <net/if.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <set>

namespace fizzhost::runtime {
namespace {

// The instances a folder holds by their pin names ("<variant>-<program id>-regions" and "-queue"),
// described with the configured plugin of that variant: what a record would have said of them.
std::vector<PinnedVariant> instancesByPinName(const std::filesystem::path& dir, const config::HostConfig& cfg,
                                              const plugin::Catalog& catalog, const config::Interface& ifc,
                                              std::vector<std::string>& unreachable) {
    static const std::regex kRegions("(baseline|candidate)-([0-9]+)-regions");
    std::vector<PinnedVariant> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        std::smatch m;
        const std::string name = e.path().filename().string();
        if (!std::regex_match(name, m, kRegions)) continue;
        const std::string variant = m[1];
        const bool candidate = variant == "candidate";
        if (candidate && !ifc.rollout) {
            unreachable.push_back("pin '" + name + "': the record that named its plugin is unreadable and the config "
                                  "has no candidate to read it with");
            continue;
        }
        try {
            auto p = findPlugin(catalog, cfg, ifc, candidate ? ifc.rollout->candidate : ifc.classifier,
                                candidate ? ifc.candidateAt : ifc.classifierAt);
            out.push_back({variant, p->name(), p->version(), p->sha256(), p->abiVersion(), p->messageSize(),
                           uint32_t(std::stoul(m[2].str())), name, variant + "-" + m[2].str() + "-queue", ""});
        } catch (const std::exception& ex) {
            unreachable.push_back("pin '" + name + "': " + ex.what());
        }
    }
    return out;
}

}  // namespace

void Host::salvagePinned(const config::Interface& ifc, const std::string& why) {
    spdlog::warn("interface '{}': cannot adopt its pinned state: {}; keeping its link where it can and draining "
                 "every region it can reach",
                 ifc.name, why);
    const std::filesystem::path dir = pins_->folder(ifc.name);
    std::optional<PinRecord> record;
    std::string recordProblem;
    try {
        record = pins_->read(ifc.name);
    } catch (const Error& e) {
        recordProblem = e.what();
    }

    // The link: kept while it holds the configured device in the configured mode.
    std::string linkNote;
    try {
        UniqueFd fd = pins_->open(ifc.name, "link");
        const bpf::LinkInfo info = bpf::linkInfo(fd.get());
        const unsigned ifindex = if_nametoindex(ifc.name.c_str());
        const std::string mode = record ? record->configuredMode : std::string(config::toString(ifc.mode));
        if (info.ifindex != 0 && info.ifindex == ifindex && mode == config::toString(ifc.mode)) {
            const bool generic = record ? record->mode == "generic" : ifc.mode == config::AttachMode::Generic;
            keptLinks_[ifc.name] = bpf::XdpLink::adopt(std::move(fd), ifc.name,
                                                       generic ? bpf::XdpMode::Generic : bpf::XdpMode::Native);
            linkNote = "link id " + std::to_string(info.id) + " kept (program id " + std::to_string(info.programId) +
                       " runs until the configured one takes it over)";
        } else if (info.ifindex != 0) {
            bpf::detachLink(fd.get());
            linkNote = "link id " + std::to_string(info.id) + " detached (" +
                       (info.ifindex != ifindex ? "it holds another device" : "attached in mode " + mode) + ")";
        }
    } catch (const Error& e) {
        linkNote = "no usable link pin (" + std::string(e.what()) + ")";
    }

    // The regions: every instance the record names (current and pending), or, without a readable
    // record, every one the folder's pin names lead to.
    std::vector<std::string> unreachable, notes;
    std::vector<PinnedVariant> instances;
    PinRecord shape;
    if (record) {
        shape = *record;
        instances = record->variants;
        if (record->pending) instances.insert(instances.end(), record->pending->variants.begin(), record->pending->variants.end());
    } else {
        shape.transport = std::string(config::toString(cfg_.output.transport));
        instances = instancesByPinName(dir, cfg_, catalog_, ifc, unreachable);
        if (!instances.empty()) {
            auto p = catalog_.find(instances.front().plugin + "@" + instances.front().version);
            shape.ringSlots = cfg_.output.transport == FIZZ_TRANSPORT_RING
                                  ? ringSlotsFor(p->messageSize(), cfg_.output.ringSlots, cfg_.output.ringRate, bpf::possibleCpus())
                                  : 0;
        }
        countLostAtStart(ifc.name, 0,
                         "pinned record unreadable (" + recordProblem + ")" +
                             (instances.empty() ? "" : "; its regions are read with the configured plugins"));
    }
    std::set<uint32_t> seen;
    auto& salvaged = salvaged_[ifc.name];
    for (const auto& v : instances) {
        if (!seen.insert(v.programId).second) continue;
        try {
            auto s = drainOnlySource(*pins_, shape, v, ifc.name, catalog_, *writer_, *decoders_, notes);
            countPoppedUnwritten(ifc.name, *s);
            pump_->add(s);  // drained from now; retired once nothing runs it (finishSalvage)
            salvaged.push_back(std::move(s));
        } catch (const Error& e) {
            unreachable.push_back(v.variant + " " + v.plugin + " " + v.version + " (program id " +
                                  std::to_string(v.programId) + "): " + e.what());
        }
    }
    for (const auto& n : notes) spdlog::warn("interface '{}': {}", ifc.name, n);
    for (const auto& u : unreachable)
        countLostAtStart(ifc.name, 0, "a region of the pinned state cannot be read; what waited in it is lost (number "
                                      "unknown): " + u);
    // The pins stay until the record written after the commit replaces them (a host dying before
    // that leaves them to its successor); an unreadable record map goes now: a new one is made.
    if (!record) {
        try {
            bpf::unpin(dir / "record");
        } catch (const Error& e) {
            spdlog::warn("interface '{}': {}", ifc.name, e.what());
        }
    }
    spdlog::info("interface '{}': {}; draining {} program instances of the pinned state", ifc.name,
                 linkNote.empty() ? "no pinned link" : linkNote, salvaged.size());
}

void Host::finishSalvage(const std::string& ifname) {
    auto it = salvaged_.find(ifname);
    if (it == salvaged_.end()) return;
    // The kept link runs the new program now: once programs in flight are done nothing writes
    // into the salvaged regions any more, and one last drain empties them.
    try {
        bpf::waitForInflightPrograms();
    } catch (const Error& e) {
        spdlog::warn("interface '{}': {}", ifname, e.what());
    }
    uint64_t delivered = 0;
    for (auto& s : it->second) {
        pump_->retire(s);
        uncounted_.check(ifname, *s);
        delivered += s->delivered();
    }
    spdlog::info("interface '{}': delivered {} messages from {} program instances of the pinned state it could not "
                 "adopt",
                 ifname, delivered, it->second.size());
    salvaged_.erase(it);
}

}  // namespace fizzhost::runtime
