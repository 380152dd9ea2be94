#include "runtime/pinned/pin_record.hpp"

#include "runtime/pinned/pin_name.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace fizzhost::runtime {

const PinnedVariant* PinRecord::variant(const std::string& name) const {
    for (const auto& v : variants)
        if (v.variant == name) return &v;
    return nullptr;
}

namespace {

nlohmann::json variantsJson(const std::vector<PinnedVariant>& variants) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : variants)
        out.push_back({{"variant", v.variant},
                       {"plugin", v.plugin},
                       {"version", v.version},
                       {"sha256", v.sha256},
                       {"abi", v.abi},
                       {"message_size", v.messageSize},
                       {"program_id", v.programId},
                       {"tag", v.tag},
                       {"regions", v.regionsPin},
                       {"queue", v.queuePin}});
    return out;
}

nlohmann::json dispatcherJson(const PinnedDispatcher& d) {
    return {{"program_id", d.programId}, {"percent", d.percent},      {"variants", d.variantsPin},
            {"split", d.splitPin},       {"shadow", d.shadow},        {"shadow_events", d.shadowEvents},
            {"tag", d.tag}};
}

std::vector<PinnedVariant> variantsFrom(const nlohmann::json& j) {
    std::vector<PinnedVariant> out;
    for (const auto& v : j)
        out.push_back({v.at("variant").get<std::string>(), v.at("plugin").get<std::string>(),
                       v.at("version").get<std::string>(), v.at("sha256").get<std::string>(),
                       v.at("abi").get<std::string>(), v.at("message_size").get<uint32_t>(),
                       v.at("program_id").get<uint32_t>(), v.at("regions").get<std::string>(),
                       v.at("queue").get<std::string>(), v.value("tag", std::string())});
    return out;
}

PinnedDispatcher dispatcherFrom(const nlohmann::json& d) {
    return PinnedDispatcher{d.at("program_id").get<uint32_t>(), d.at("percent").get<unsigned>(),
                            d.at("variants").get<std::string>(), d.at("split").get<std::string>(),
                            d.value("shadow", false),           d.value("shadow_events", false),
                            d.value("tag", std::string())};
}

uint32_t linkProgram(const std::vector<PinnedVariant>& variants, const std::optional<PinnedDispatcher>& d) {
    if (d) return d->programId;
    for (const auto& v : variants)
        if (v.variant == "baseline") return v.programId;
    return 0;
}

}  // namespace

uint32_t PinnedPending::linkProgramId() const { return linkProgram(variants, dispatcher); }
uint32_t PinRecord::linkProgramId() const { return linkProgram(variants, dispatcher); }

nlohmann::json PinRecord::toJson() const {
    nlohmann::json j = {{"format", format},       {"interface", interface}, {"netns", netns}, {"ifindex", ifindex},
                        {"link_id", linkId},      {"configured_mode", configuredMode},
                        {"mode", mode},           {"transport", transport}, {"ring_slots", ringSlots},
                        {"queue_size", queueSize}, {"cpus", cpus},          {"variants", variantsJson(variants)}};
    if (!rollout.is_null()) j["rollout"] = rollout;
    if (dispatcher) j["dispatcher"] = dispatcherJson(*dispatcher);
    if (pending) {
        j["pending"] = {{"variants", variantsJson(pending->variants)}};
        if (pending->dispatcher) j["pending"]["dispatcher"] = dispatcherJson(*pending->dispatcher);
    }
    return j;
}

PinRecord PinRecord::fromJson(const nlohmann::json& j) {
    try {
        PinRecord r;
        r.format = j.at("format").get<int>();
        if (r.format != kFormat)
            throw Error("record format " + std::to_string(r.format) + ", this fizzhost reads format " +
                            std::to_string(kFormat),
                        EPROTO);
        r.interface = j.at("interface").get<std::string>();
        r.netns = j.value("netns", std::string());
        r.ifindex = j.at("ifindex").get<uint32_t>();
        r.linkId = j.at("link_id").get<uint32_t>();
        r.configuredMode = j.at("configured_mode").get<std::string>();
        r.mode = j.at("mode").get<std::string>();
        r.transport = j.at("transport").get<std::string>();
        r.ringSlots = j.at("ring_slots").get<uint32_t>();
        r.queueSize = j.at("queue_size").get<uint32_t>();
        r.cpus = j.at("cpus").get<uint32_t>();
        r.variants = variantsFrom(j.at("variants"));
        r.rollout = j.value("rollout", nlohmann::json());
        if (j.contains("dispatcher")) r.dispatcher = dispatcherFrom(j.at("dispatcher"));
        if (j.contains("pending")) {
            const auto& p = j.at("pending");
            r.pending = PinnedPending{variantsFrom(p.at("variants")), std::nullopt};
            if (p.contains("dispatcher")) r.pending->dispatcher = dispatcherFrom(p.at("dispatcher"));
        }
        // A new host opens these names as root: none may lead outside the interface's folder.
        auto pinName = [&](const std::string& what, const std::string& name) {
            if (auto problem = pinNameProblem(name))
                throw Error("pinned record of interface '" + printable(r.interface) + "': " + what + " '" +
                                printable(name) + "' " + *problem + "; the record is refused, nothing it names is opened",
                            EPROTO);
        };
        auto checkAll = [&](const std::vector<PinnedVariant>& variants, const std::optional<PinnedDispatcher>& d) {
            for (const auto& v : variants) {
                pinName(printable(v.variant) + " regions pin", v.regionsPin);
                pinName(printable(v.variant) + " queue pin", v.queuePin);
            }
            if (d) {
                pinName("dispatcher variants pin", d->variantsPin);
                pinName("dispatcher split pin", d->splitPin);
            }
        };
        checkAll(r.variants, r.dispatcher);
        if (r.pending) checkAll(r.pending->variants, r.pending->dispatcher);
        return r;
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string("pinned record: ") + e.what(), EPROTO);
    }
}

}  // namespace fizzhost::runtime
