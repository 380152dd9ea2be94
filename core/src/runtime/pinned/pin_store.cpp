#include "runtime/pinned/pin_store.hpp"

#include "bpf/map.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace fizzhost::runtime {
namespace fs = std::filesystem;
namespace {

constexpr const char* kLinkPin = "link";
constexpr const char* kRecordPin = "record";
constexpr const char* kRecordMapName = "fizzhost_state";
// One value holds the JSON record: a few hundred bytes per variant.
constexpr uint32_t kRecordBytes = 4096;

// The entries of a folder, listed before any is removed (removing while iterating may skip some).
std::vector<fs::path> entries(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path());
    return out;
}


PinnedVariant describeVariant(const char* name, const MessageSource& s) {
    const Classifier& c = s.classifier();
    const uint32_t id = c.programId();
    const std::string stem = std::string(name) + "-" + std::to_string(id);
    return {name,
            c.plugin().name(),
            c.plugin().version(),
            c.plugin().sha256(),
            c.plugin().abiVersion(),
            c.plugin().messageSize(),
            id,
            stem + "-regions",
            stem + "-queue",
            bpf::programInfo(c.programFd()).tag};
}

}  // namespace

PinStore::PinStore(fs::path root) : root_(std::move(root)) {
    for (int attempt = 1;; ++attempt) {
        const std::string did = bpf::ensureBpffs(root_);
        if (!did.empty()) spdlog::info("{}", did);
        try {
            lock_ = bpf::DirLock(root_);
            refuseOtherNetns();
            return;
        } catch (const Error& e) {
            if (e.code() == EWOULDBLOCK)
                throw Error("state root '" + root_.string() +
                                "' is in use by another fizzhost (it holds the folder's lock); give each host its own "
                                "[service] state_root",
                            EWOULDBLOCK);
            // The host before us removed the empty root as it left: make it again.
            if (e.code() != ESTALE || attempt == 3) throw;
        }
    }
}

PinStore::~PinStore() {
    if (lock_ && bpf::removeIfEmpty(root_)) spdlog::debug("state root '{}' was empty: removed", root_.string());
}

std::string PinStore::currentNetns() {
    std::error_code ec;
    const fs::path link = fs::read_symlink("/proc/self/ns/net", ec);
    if (ec) throwErrno("read /proc/self/ns/net (the host's network namespace)", ec.value());
    return link.string();
}

// Interface names are per network namespace: state pinned by a host in another one names other
// devices. Adopting it would report that namespace's link as ours; sweeping it would detach it.
void PinStore::refuseOtherNetns() const {
    const std::string here = currentNetns();
    for (const auto& name : interfaces()) {
        std::string there;
        try {
            there = read(name).netns;
        } catch (const Error&) {
            continue;  // unreadable: adoption says why, for this interface alone
        }
        if (!there.empty() && there != here)
            throw Error("state root '" + root_.string() + "' holds the pinned state of interface '" + name +
                            "' from network namespace " + there + ", and this fizzhost runs in " + here +
                            ", where that name is another device; nothing was changed. Give each network namespace "
                            "its own [service] state_root, or remove that state with `fizzhost detach --state-root " +
                            root_.string() + "` run in " + there,
                        EXDEV);
    }
}

PinStore::PinStore(fs::path root, Unlocked) : root_(std::move(root)) {}

PinStore PinStore::openUnlocked(fs::path root) {
    if (!bpf::onBpffs(root))
        throw Error("state root '" + root.string() + "' is not a folder on a bpf filesystem (nothing is pinned there)",
                    ENOENT);
    return PinStore(std::move(root), Unlocked{});
}

std::vector<std::string> PinStore::interfaces() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_, ec))
        if (e.is_directory()) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

UniqueFd PinStore::open(const std::string& ifname, const std::string& pin) const {
    return bpf::openPinned(folder(ifname) / pin);
}

PinRecord PinStore::read(const std::string& ifname) const {
    UniqueFd map = open(ifname, kRecordPin);
    const bpf::MapInfo info = bpf::mapInfo(map.get());
    if (info.type != BPF_MAP_TYPE_ARRAY || info.valueSize != kRecordBytes || info.maxEntries != 1)
        throw Error("interface '" + ifname + "': pinned record is not a fizzhost record map", EPROTO);
    std::string text(kRecordBytes, '\0');
    const uint32_t key = 0;
    if (bpf_map_lookup_elem(map.get(), &key, text.data()) != 0)
        throwErrno("interface '" + ifname + "': read pinned record", errno);
    text.resize(text.find('\0') == std::string::npos ? text.size() : text.find('\0'));
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) throw Error("interface '" + ifname + "': pinned record is not JSON", EPROTO);
    return PinRecord::fromJson(j);
}

namespace {

// The variants and dispatcher of one state, and the objects to pin before a record names them.
struct Described {
    std::vector<PinnedVariant> variants;
    std::optional<PinnedDispatcher> dispatcher;
};

Described describeState(const LiveState& st, std::vector<std::pair<std::string, int>>& pins) {
    Described d;
    for (auto [name, source] : {std::pair{"baseline", st.baseline}, std::pair{"candidate", st.candidate}}) {
        if (!source) continue;
        d.variants.push_back(describeVariant(name, *source));
        pins.emplace_back(d.variants.back().regionsPin, source->classifier().regionsFd());
        pins.emplace_back(d.variants.back().queuePin, source->classifier().queueFd());
    }
    if (st.dispatcher) {
        const uint32_t id = bpf::programId(st.dispatcher->programFd());
        const std::string stem = "dispatcher-" + std::to_string(id);
        d.dispatcher = PinnedDispatcher{id,
                                        st.dispatcher->percent(),
                                        stem + "-variants",
                                        stem + "-split",
                                        st.dispatcher->shadow(),
                                        st.candidate && st.candidate->delivers(),
                                        bpf::programInfo(st.dispatcher->programFd()).tag};
        pins.emplace_back(d.dispatcher->variantsPin, st.dispatcher->variantsFd());
        pins.emplace_back(d.dispatcher->splitPin, st.dispatcher->splitFd());
    }
    return d;
}

}  // namespace

PinRecord PinStore::pinState(const Attachment& a, const nlohmann::json& rolloutProgress, const LiveState* next,
                             std::vector<std::pair<std::string, int>>& pins) {
    const std::string& ifname = a.cfg.name;
    const fs::path dir = folder(ifname);
    std::error_code ec;
    fs::create_directory(dir, ec);
    if (ec) throwErrno("pin state of '" + ifname + "': create '" + dir.string() + "'", ec.value());

    PinRecord r;
    r.interface = ifname;
    r.netns = currentNetns();
    r.rollout = rolloutProgress;
    r.ifindex = uint32_t(a.ifindex);
    r.linkId = a.link.id();
    r.configuredMode = std::string(config::toString(a.cfg.mode));
    r.mode = a.link.modeName();  // "tcx" for a link at tc ingress
    const Classifier& base = a.baseline->classifier();
    r.transport = std::string(config::toString(base.transport()));
    r.ringSlots = base.ringSlots();
    r.queueSize = bpf::mapInfo(base.queueFd()).maxEntries;
    r.cpus = base.cpus();
    Described now = describeState({a.baseline.get(), a.candidate.get(), a.dispatcher.get()}, pins);
    r.variants = std::move(now.variants);
    r.dispatcher = std::move(now.dispatcher);
    if (next) {
        Described pending = describeState(*next, pins);
        r.pending = PinnedPending{std::move(pending.variants), std::move(pending.dispatcher)};
    }
    for (const auto& [pin, fd] : pins)
        if (!fs::exists(dir / pin)) bpf::pinObject(fd, dir / pin);
    // A link pin left from an attachment that is gone is replaced; the kept link is pinned once.
    bool linkPinned = false;
    try {
        linkPinned = bpf::linkInfo(bpf::openPinned(dir / kLinkPin).get()).id == r.linkId;
    } catch (const Error&) {
    }
    if (!linkPinned) bpf::pinObject(a.link.fd(), dir / kLinkPin);

    // The record: one element written with one syscall, the commit point of what it names.
    UniqueFd record;
    if (fs::exists(dir / kRecordPin)) {
        record = bpf::openPinned(dir / kRecordPin);
    } else {
        record = bpf::createMap({BPF_MAP_TYPE_ARRAY, kRecordMapName, 4, kRecordBytes, 1, BPF_F_RDONLY_PROG});
        bpf::pinObject(record.get(), dir / kRecordPin);
    }
    std::string text = r.toJson().dump();
    if (text.size() >= kRecordBytes)
        throw Error("pin state of '" + ifname + "': record of " + std::to_string(text.size()) +
                        " bytes does not fit its " + std::to_string(kRecordBytes) + "-byte map value",
                    E2BIG);
    text.resize(kRecordBytes, '\0');
    const uint32_t key = 0;
    bpf::updateElem(record.get(), &key, text.data(), "pin state of '" + ifname + "': write record");
    return r;
}

void PinStore::saveIntent(const Attachment& a, const LiveState& next, const nlohmann::json& rolloutProgress) {
    std::vector<std::pair<std::string, int>> pins;
    pinState(a, rolloutProgress, &next, pins);
}

void PinStore::save(const Attachment& a, const nlohmann::json& rolloutProgress) {
    std::vector<std::pair<std::string, int>> pins;
    pinState(a, rolloutProgress, nullptr, pins);
    const fs::path dir = folder(a.cfg.name);
    std::set<std::string> named = {kLinkPin, kRecordPin};
    for (const auto& [pin, fd] : pins) named.insert(pin);
    for (const auto& e : entries(dir))
        if (!named.count(e.filename().string())) bpf::unpin(e);
}

std::string PinStore::remove(const std::string& ifname) {
    const fs::path dir = folder(ifname);
    std::string what = "interface '" + ifname + "': ";
    try {
        UniqueFd link = bpf::openPinned(dir / kLinkPin);
        const bpf::LinkInfo info = bpf::linkInfo(link.get());
        if (info.ifindex != 0) {
            bpf::detachLink(link.get());
            what += "detached link id " + std::to_string(info.id) + " (program id " + std::to_string(info.programId) +
                    ") and removed its pinned state";
        } else {
            what += "link id " + std::to_string(info.id) + " was already detached (device gone); removed its pinned state";
        }
    } catch (const Error& e) {
        if (e.code() != ENOENT) throw;
        what += "no pinned link; removed the rest of its pinned state";
    }
    for (const auto& e : entries(dir)) bpf::unpin(e);
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) throwErrno("remove '" + dir.string() + "'", errno);
    return what;
}

void PinStore::forget(const std::string& ifname) noexcept {
    try {
        const fs::path dir = folder(ifname);
        for (const auto& e : entries(dir)) bpf::unpin(e);
        if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) throwErrno("remove '" + dir.string() + "'", errno);
    } catch (const std::exception& e) {
        spdlog::warn("interface '{}': removing its pinned state: {}", ifname, e.what());
    }
}

}  // namespace fizzhost::runtime
