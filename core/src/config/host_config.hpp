// The host's configuration as validated plain structs. Produced by config_loader; no kernel calls.
#pragma once

#include "config/expected_cells.hpp"
#include "config/rollout_plan.hpp"
#include "util/decoder_settings.hpp"
#include <fizz/shared.h>
#include <net/if.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::config {

/// The longest interface name the kernel takes: it keeps a terminating NUL in IFNAMSIZ bytes.
inline constexpr size_t kMaxIfname = IFNAMSIZ - 1;

/// The message transports, as [output] transport, the pinned record and `fizzhost bench` name them
/// (toString, parseTransport).
inline constexpr std::array<fizz_transport, 2> kTransports = {FIZZ_TRANSPORT_RING, FIZZ_TRANSPORT_QUEUE};
/// The name "ring" had while the BPF ring buffer was the transport; read as "ring", with a warning.
inline constexpr std::string_view kOldRingName = "ringbuf";

enum class AttachMode { Auto, Native, Generic };

/// The message rate a ring is sized for ([output] rate, stall_ms, spread_cpus): each CPU gets the
/// slots for its share of `perSecond` during a pump stall of `stallMs`, the rate spread over
/// `spreadCpus` receiving CPUs (RSS), or over every possible CPU when there are fewer. The rule,
/// its table and the memory it costs: docs/performance.md.
struct RingRate {
    double perSecond = 14.88e6;  // 10 GbE line rate of 64-byte frames, one message each
    uint32_t stallMs = 20;
    uint32_t spreadCpus = 8;

    /// ceil(perSecond x stallMs / min(spreadCpus, cpus)), at least 1. The last part per billion is
    /// forgiven so that a product meant to be whole (14.88e6 x 20 ms / 8 = 37,200) stays whole.
    uint64_t slotsPerCpu(unsigned cpus) const {
        const double spread = double(std::max(1u, std::min(spreadCpus, cpus)));
        const double slots = perSecond * stallMs / 1000.0 / spread;
        return std::max<uint64_t>(1, uint64_t(std::ceil(slots * (1 - 1e-9))));
    }
    bool operator==(const RingRate&) const = default;
};

/// [output] spare_regions: keep a regions map made ahead for the next reload (on), never (off),
/// or only while a regions map is small enough that the spare costs little (auto).
enum class SpareRegions { Auto, On, Off };
/// With SpareRegions::Auto: a spare is kept for a regions map of at most this many bytes.
inline constexpr uint64_t kAutoSpareMaxBytes = 16u << 20;
enum class EventFormat { Json, Text };

// How a rollout runs the candidate: on a share of the sources, or on every frame next to the baseline.
enum class RolloutMode { Split, Shadow };

// A/B split: `percent` of sources (by a hash of the source address) meet `candidate`. In shadow
// mode the candidate runs on every frame as well, its decisions compared with the baseline's. With a
// plan, the host moves the split along its steps itself (rollout_plan.hpp), starting at 0.
struct Rollout {
    std::string candidate;  // NAME or NAME@VERSION; must resolve to another plugin than the classifier
    unsigned percent = 0;   // 0..100 (split mode)
    RolloutMode mode = RolloutMode::Split;
    bool shadowEvents = false;  // shadow mode (or a plan's shadow stage): write the candidate's events too ("variant":"shadow")
    // The dispatcher times 1 frame in this many per CPU for the per-variant cost (a power of two;
    // 0: no per-variant cost, the cheapest dispatcher). Unset: the dispatcher's default.
    std::optional<uint32_t> costSamplePeriod;
    // Gated progressive rollout: `steps` and the keys around it; the host moves the split along
    // the steps itself, starting at the first (or at a shadow stage before it, plan->shadowSeconds).
    std::optional<RolloutPlan> plan;
    // Shadow mode or a plan's shadow stage: the cells the candidate is meant to change
    // (`expected`), reported but not counted as disagreements. Kind names are checked against
    // the plugins by whoever loads them (checkExpectedKinds).
    std::vector<ExpectedCell> expected;

    bool operator==(const Rollout&) const = default;
};

// Where in the config file a value was written (1-based; 0 = not from a file).
struct SourcePosition {
    uint32_t line = 0, column = 0;
};

// The hook an interface's classifier runs on: XDP (it holds the hook, or hands each frame on to
// `then`), or tc ingress through a tcx link, beside the other programs there.
enum class Hook { Xdp, Tc };
// What the host does when someone else detaches its link (bpf_link_detach, as libxdp does).
enum class OnDetach { Reattach, StayOff };

// Where a tc classifier goes among the programs on the hook: first, last, or before/after one
// program there, named by its name or by the path it (or a link holding it) is pinned at.
struct TcPlace {
    enum class Where { First, Last, Before, After };
    Where where = Where::Last;
    std::string program;            // Before/After by name ...
    std::filesystem::path pinned;   // ... or by a pin (absolute)
    bool operator==(const TcPlace&) const = default;
};

struct Interface {
    std::string name;
    std::string classifier;  // NAME (highest version present) or NAME@VERSION
    AttachMode mode = AttachMode::Auto;
    Hook hook = Hook::Xdp;
    TcPlace place;                // hook = "tc" only
    std::filesystem::path then;   // hook = "xdp": the pinned XDP program every frame goes on to; empty: none
    OnDetach onDetach = OnDetach::Reattach;
    std::optional<Rollout> rollout;
    // For errors found only later (an unknown plugin, a missing interface): file:line:col.
    SourcePosition at;            // the [interface.NAME] key
    SourcePosition classifierAt;  // its classifier value
    SourcePosition candidateAt;   // its rollout.candidate value, during a rollout
    std::vector<SourcePosition> expectedAt;  // each of its rollout.expected cells
};

struct Output {
    std::string events = "-";  // "-" = stdout, else an absolute path (kept a string so "-" needs no sentinel path)
    EventFormat format = EventFormat::Json;
    fizz_transport transport = FIZZ_TRANSPORT_RING;  // the one enum BPF and C++ share
    /// Message slots per CPU (ring transport); 0: sized from `ringRate` (lowered to what fits for
    /// large messages). An explicit value wins over the rate.
    uint32_t ringSlots = 0;
    RingRate ringRate;
    /// Keep one unused regions map of each shape in use, so a reload takes it instead of waiting
    /// for the allocation (runtime/instance/region_spares.hpp). Costs that map's memory: cpus x
    /// region; auto keeps it only for maps of at most kAutoSpareMaxBytes.
    SpareRegions spareRegions = SpareRegions::Auto;
    /// A missing events file is created with this mode, and this group when given (a group name;
    /// empty: the host's own). An existing file keeps its own (util/output_file.hpp).
    uint32_t eventsMode = 0640;
    std::string eventsGroup;
    /// How long a batch of events may wait for the events output to take it before its events are
    /// counted lost (a stalled FIFO or pipe reader); also bounds the output's part of a stop.
    uint32_t writeTimeoutMs = 1000;
};

// Reload guard: refuse a new program measured more than maxSlowdown times slower than the old one.
struct Guard {
    std::optional<double> maxSlowdown;  // absent = no guard; else finite and >= 1.0
    std::string mix = "uniform";        // traffic mix measured: "uniform" | "worst"
};

// [metrics]: a Prometheus endpoint, off unless `listen` is given.
inline constexpr uint32_t kDefaultMetricsConnections = 64;
struct Metrics {
    /// "ADDRESS:PORT" with a numeric address, e.g. "127.0.0.1:9464" or "[::]:9464"; written without
    /// one (":9464") it is loopback, "127.0.0.1:9464": all addresses must be asked for. Port 0
    /// picks a free one.
    std::optional<std::string> listen;
    /// TLS and basic auth, in the Prometheus exporter toolkit's web config format (absolute).
    std::optional<std::filesystem::path> webConfig;
    /// Connections served at once; one more takes the place of the one idle longest.
    uint32_t maxConnections = kDefaultMetricsConnections;
};

// [service]: how the daemon behaves under a service manager or an orchestrator.
enum class OnExit { Detach, Keep };
struct Service {
    bool watchConfig = false;  // reload when the config file's content changes (inotify)
    /// Where links and maps are pinned (bpffs); absolute. See runtime/pinned/pin_store.hpp.
    std::filesystem::path stateRoot = "/sys/fs/bpf/fizzhost";
    /// At an orderly exit: detach and unpin everything, or leave links and pins for a successor.
    OnExit onExit = OnExit::Detach;
};

struct HostConfig {
    std::filesystem::path source;     // the file it came from
    std::filesystem::path pluginDir;  // absolute
    uint32_t queueSize = 1024;
    bool allowInsecurePlugins = false;
    /// The kernel's BPF run-time statistics (ns/run of the program on each link, in status and
    /// metrics). Off by default: while on, the kernel reads the clock twice around every run of
    /// every BPF program on the machine, ours and anyone else's.
    bool runTimeStats = false;
    std::filesystem::path controlSocket = "/run/fizzhost/fizzhost.sock";
    Output output;
    Guard guard;
    Metrics metrics;
    Service service;
    DecoderSettings decoders;  // [decoders]
    std::vector<Interface> interfaces;  // in the order the file first names them

    /// The interface called `name`, or nullptr; the pointer lives as long as `interfaces` is unchanged.
    const Interface* findInterface(std::string_view name) const {
        for (const auto& i : interfaces)
            if (i.name == name) return &i;
        return nullptr;
    }
};

/// The TOML spelling of each value ("native", "json", "ring", ...), for logs and messages.
std::string_view toString(AttachMode mode);
std::string_view toString(Hook hook);
std::string_view toString(OnDetach policy);
/// "first", "last", "before program 'x'", "after the program pinned at '/p'".
std::string describe(const TcPlace& place);
std::string_view toString(RolloutMode mode);
std::string_view toString(EventFormat format);
std::string_view toString(fizz_transport transport);
/// The transport toString() names `name`; nullopt for any other name (kOldRingName included: the
/// caller says what it makes of it).
std::optional<fizz_transport> parseTransport(std::string_view name);

}  // namespace fizzhost::config
