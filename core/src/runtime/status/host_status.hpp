// What the host reports about itself: the control socket's answer (`fizzhost status`), the
// Prometheus metrics and the service manager's status line, as plain data. Built here
// (status_builder.hpp) from what runs; written out as JSON, and read back from it by the client,
// in status_json.hpp alone; as text in cli/status_text.hpp alone; as metrics in
// service/status_view.hpp alone.
#pragma once

#include "runtime/rollout/rollout_controller.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fizzhost::runtime {

/// What one or more program instances counted, and what became of their messages.
struct StatusCounts {
    uint64_t packets = 0, emitted = 0, dropped = 0, delivered = 0, undecodable = 0;
    std::map<std::string, uint64_t> kinds;  // messages per kind name
    bool operator==(const StatusCounts&) const = default;
};

/// One variant's program instance, counted since it went live.
struct VariantStatus {
    std::string variant;  // "baseline", "candidate" or "shadow"
    std::string plugin, version, abi;
    uint32_t programId = 0;
    StatusCounts counts;
    uint64_t writeLost = 0;      // decoded, but the write carrying them failed
    uint64_t withheld = 0;       // decoded, not written: a shadow candidate without shadow_events
    bool countsPackets = true;   // false: it emits but never calls fizz_count_packet()
    /// Cost: behind the dispatcher, what it timed (runsTimedOneIn set); a lone classifier's is the
    /// kernel's ns/run (run_time_stats) with no runs.
    std::optional<double> nsPerRun;
    std::optional<uint64_t> runs;
    std::optional<uint32_t> runsTimedOneIn;
    bool operator==(const VariantStatus&) const = default;
};

/// Shadow mode's comparison of the two variants' decisions on the same frames.
struct ShadowStatus {
    struct Cell {
        std::string baseline, candidate;  // kind names, "none" where nothing was emitted
        uint64_t frames = 0;
        bool agree = false;
        std::vector<std::string> examples;  // IPv4 sources, dotted
        bool expected = false;              // a disagreeing cell the rollout's `expected` list names
        bool operator==(const Cell&) const = default;
    };
    uint64_t compared = 0, disagreed = 0;
    uint64_t unexpected = 0;  // disagreeing frames outside the expected cells
    std::vector<Cell> cells;  // disagreeing pairs first, most frames first
    bool events = false;      // the candidate's events are written ("variant":"shadow")
    bool operator==(const ShadowStatus&) const = default;
};

/// `fizzhost status --cost-window`: the attached program measured over a window by the client.
struct CostWindow {
    double seconds = 0;
    uint64_t runs = 0;
    double nsPerRun = 0;
    bool operator==(const CostWindow&) const = default;
};

struct InterfaceStatus {
    enum class State { Attached, Gone };
    std::string name;
    State state = State::Attached;

    // Attached.
    std::string mode;  // the link's XDP mode: "native" | "generic"; "tcx" at tc ingress
    uint32_t linkId = 0, programId = 0;
    std::string hook = "xdp";     // "xdp" | "tc"
    std::string place;            // tc: where among the hook's programs ("first", "after program 'x'")
    std::string chain;            // XDP with `then`: the pin of the program every frame goes on to
    uint32_t chainProgramId = 0;  // and its id
    std::string onDetach = "reattach";  // "reattach" | "stay_off"
    uint64_t detaches = 0;        // times someone else detached the link
    std::optional<std::string> off;  // why the interface runs nothing now (detached, not re-attached)
    std::optional<double> nsPerRun;  // the attached program, from the kernel (run_time_stats)
    std::optional<uint64_t> runs;
    std::optional<unsigned> percent;  // a split rollout's share to the candidate
    std::optional<ShadowStatus> shadow;
    std::optional<RolloutStatus> progressive;
    StatusCounts totals;  // since the interface was attached: retired instances + live ones
    std::vector<VariantStatus> variants;
    std::optional<CostWindow> costWindow;
    /// What the start could not deliver of the pinned state the host before left (it died during
    /// a commit, or the state was damaged): messages counted as lost, and why (one line each, also
    /// for losses whose size could not be known).
    uint64_t lostAtStart = 0;
    std::vector<std::string> lostAtStartReasons;

    // Gone: the device was deleted or renamed away.
    std::string classifier;  // attached again when an interface of the name appears
    std::string goneSince;   // ISO 8601 UTC
    int ifindexWas = 0;
    StatusCounts final;
    bool operator==(const InterfaceStatus&) const = default;
};

/// The events output, since the host started.
struct OutputStatus {
    uint64_t written = 0, lost = 0, writeErrors = 0, reopens = 0;
    std::optional<std::string> lastError;  // errno text of the last failed write
    // Of `lost`: not written within [output] write_timeout_ms; dropped because the output's queue
    // was full (the writer behind the pump). The rest failed a write or found no sink open.
    uint64_t lostWriteTimeout = 0, lostQueueFull = 0;
    bool operator==(const OutputStatus&) const = default;
};

/// The last reload: when, what asked for it, its outcome and how long it took.
struct ReloadSummary {
    std::string time;     // ISO 8601 UTC, when it started
    std::string trigger;  // "SIGHUP", "control", "config watch"
    bool ok = false;      // the new config is live on every interface
    std::string reason;   // why not (empty when ok)
    double durationMs = 0;
    bool operator==(const ReloadSummary&) const = default;
};

/// One plugin module's decoder: where it runs and how its worker fared since the host started it.
struct DecoderStatus {
    std::string plugin, version, sha256, file;
    bool confined = true;    // in a worker process (false: isolation = "none", in the host)
    int64_t pid = 0;         // the worker now running, 0 when none
    uint64_t starts = 0, restarts = 0;
    std::string lastFailure;  // why the last worker ended ("SIGSEGV", "hung 1000 ms", ...), empty: none
    /// Messages counted undecodable because a worker died on them twice, by reason, and those
    /// refused while the decoder was disabled ("disabled").
    std::map<std::string, uint64_t> undecodable;
    bool disabled = false;  // too many restarts a minute: its messages are undecodable for now
    std::string disabledReason;
    bool operator==(const DecoderStatus&) const = default;
};

struct HostStatus {
    std::vector<InterfaceStatus> interfaces;  // attached ones by name, then the gone ones
    bool runTimeStats = false;                // the kernel's BPF run-time statistics are on
    bool insecurePlugins = false;
    std::optional<std::string> stateRoot;     // none: running without pinned state
    bool keepOnExit = false;                  // on_exit = "keep" (else "detach")
    std::optional<OutputStatus> output;       // none before the host started
    std::optional<ReloadSummary> lastReload;  // none before the first reload (the daemon's)
    std::vector<DecoderStatus> decoders;      // one per plugin module in use, by name and version
    bool operator==(const HostStatus&) const = default;
};

}  // namespace fizzhost::runtime
