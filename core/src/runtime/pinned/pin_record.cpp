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

nlohmann::json PinRecord::toJson() const {
    nlohmann::json j = {{"format", format},       {"interface", interface}, {"netns", netns}, {"ifindex", ifindex},
                        {"link_id", linkId},      {"configured_mode", configuredMode},
                        {"mode", mode},           {"transport", transport}, {"ring_slots", ringSlots},
                        {"queue_size", queueSize}, {"cpus", cpus},          {"variants", nlohmann::json::array()}};
    for (const auto& v : variants)
        j["variants"].push_back({{"variant", v.variant},
                                 {"plugin", v.plugin},
                                 {"version", v.version},
                                 {"sha256", v.sha256},
                                 {"abi", v.abi},
                                 {"message_size", v.messageSize},
                                 {"program_id", v.programId},
                                 {"regions", v.regionsPin},
                                 {"queue", v.queuePin}});
    if (!rollout.is_null()) j["rollout"] = rollout;
    if (dispatcher)
        j["dispatcher"] = {{"program_id", dispatcher->programId},
                           {"percent", dispatcher->percent},
                           {"variants", dispatcher->variantsPin},
                           {"split", dispatcher->splitPin},
                           {"shadow", dispatcher->shadow},
                           {"shadow_events", dispatcher->shadowEvents}};
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
        for (const auto& v : j.at("variants"))
            r.variants.push_back({v.at("variant").get<std::string>(), v.at("plugin").get<std::string>(),
                                  v.at("version").get<std::string>(), v.at("sha256").get<std::string>(),
                                  v.at("abi").get<std::string>(), v.at("message_size").get<uint32_t>(),
                                  v.at("program_id").get<uint32_t>(), v.at("regions").get<std::string>(),
                                  v.at("queue").get<std::string>()});
        r.rollout = j.value("rollout", nlohmann::json());
        if (j.contains("dispatcher")) {
            const auto& d = j.at("dispatcher");
            r.dispatcher = PinnedDispatcher{d.at("program_id").get<uint32_t>(), d.at("percent").get<unsigned>(),
                                            d.at("variants").get<std::string>(), d.at("split").get<std::string>(),
                                            d.value("shadow", false), d.value("shadow_events", false)};
        }
        // A new host opens these names as root: none may lead outside the interface's folder.
        auto pinName = [&](const std::string& what, const std::string& name) {
            if (auto problem = pinNameProblem(name))
                throw Error("pinned record of interface '" + printable(r.interface) + "': " + what + " '" +
                                printable(name) + "' " + *problem + "; the record is refused, nothing it names is opened",
                            EPROTO);
        };
        for (const auto& v : r.variants) {
            pinName(printable(v.variant) + " regions pin", v.regionsPin);
            pinName(printable(v.variant) + " queue pin", v.queuePin);
        }
        if (r.dispatcher) {
            pinName("dispatcher variants pin", r.dispatcher->variantsPin);
            pinName("dispatcher split pin", r.dispatcher->splitPin);
        }
        return r;
    } catch (const nlohmann::json::exception& e) {
        throw Error(std::string("pinned record: ") + e.what(), EPROTO);
    }
}

}  // namespace fizzhost::runtime
