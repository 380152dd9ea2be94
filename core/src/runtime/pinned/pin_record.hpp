// What a host records about an interface's pinned state for its successor (pin_store.hpp keeps it on
// bpffs): plugin name, version, SHA-256 of the module file, ABI, transport, sizes, program and link
// ids, the names of the map pins, a progressive rollout's progress. Plain data and its JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fizzhost::runtime {

struct PinnedVariant {
    std::string variant;  // "baseline" | "candidate"
    std::string plugin, version, sha256, abi;
    uint32_t messageSize = 0, programId = 0;
    std::string regionsPin, queuePin;  // file names in the interface's folder
    std::string tag;  // the program's kernel tag: an id the kernel reused names another program. "" in old records
};

struct PinnedDispatcher {
    uint32_t programId = 0;
    unsigned percent = 0;
    std::string variantsPin, splitPin;
    // Shadow mode: the candidate saw the baseline's frames (its messages withheld unless
    // shadowEvents). False in records written before it was kept.
    bool shadow = false, shadowEvents = false;
    std::string tag;  // the dispatcher program's kernel tag ("" in old records)
};

/// The state a commit is about to make live (its intent), written with the pins it names BEFORE
/// the one kernel operation and dropped by the record written after it (the outcome). A host that
/// dies in between leaves the link running either the recorded state or this one: its successor
/// adopts whichever the link runs and drains the regions of the other.
struct PinnedPending {
    std::vector<PinnedVariant> variants;
    std::optional<PinnedDispatcher> dispatcher;
    uint32_t linkProgramId() const;  // what the link runs once it is live
};

struct PinRecord {
    static constexpr int kFormat = 1;
    int format = kFormat;
    std::string interface;
    /// The network namespace the host ran in, as /proc/self/ns/net names it ("net:[4026531840]"):
    /// an interface name means another device in another namespace. Empty in records written
    /// before it was kept.
    std::string netns;
    uint32_t ifindex = 0, linkId = 0;
    std::string configuredMode;  // "auto" | "native" | "generic": the config's
    std::string mode;            // "native" | "generic": the link's
    std::string transport;       // "ring" | "queue"
    uint32_t ringSlots = 0, queueSize = 0, cpus = 0;
    std::vector<PinnedVariant> variants;
    std::optional<PinnedDispatcher> dispatcher;
    /// A progressive rollout's progress (RolloutBook::progress), null without one.
    nlohmann::json rollout;
    std::optional<PinnedPending> pending;

    /// The program the link runs in the recorded state (the dispatcher's during a rollout).
    uint32_t linkProgramId() const;

    const PinnedVariant* variant(const std::string& name) const;
    nlohmann::json toJson() const;
    /// Throws Error naming what is missing or of another format.
    static PinRecord fromJson(const nlohmann::json& j);
};

}  // namespace fizzhost::runtime
