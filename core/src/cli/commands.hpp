// The subcommands of the fizzhost binary. Each returns the process exit code; main.cpp only parses
// the command line and dispatches.
#pragma once

#include "cli/frame_options.hpp"
#include "config/host_config.hpp"
#include "plugin/catalog.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fizzhost::cli {

/// build/plugins beside a binary in a build tree, else <prefix>/lib/fizzhost/plugins.
std::filesystem::path defaultPluginDir();

struct PluginDirOptions {
    std::string pluginDir;  // empty: defaultPluginDir()
    bool allowInsecure = false;
    std::filesystem::path resolved() const;
    /// A catalog of resolved() that never loads module code into this process: ABI 1.0 modules
    /// are described by confined workers ([decoders] defaults, root from $FIZZHOST_DECODER_ROOT).
    plugin::Catalog confinedCatalog() const;
};

struct ClassifyOptions {
    PluginDirOptions dir;
    std::string plugin;
    std::vector<std::string> addresses;  // empty: read stdin, one per line (unless pcap is set)
    std::string pcap;                    // a capture file: every frame of it, instead of addresses
    FrameShapeOptions shape;             // how frames from addresses look
};
int classifyCommand(const ClassifyOptions& opts);

struct PluginsOptions {
    PluginDirOptions dir;
    bool json = false;
    bool verify = false;  // load every version and ask the verifier about its program (never attach)
};
int pluginsCommand(const PluginsOptions& opts);

struct DaemonOptions {
    std::string config;
    bool allowInsecure = false;
};
int daemonCommand(const DaemonOptions& opts);
int checkCommand(const DaemonOptions& opts);

struct StatusOptions {
    std::string config;
    std::string socket;
    bool json = false;
    /// > 0: also measure each link's program with the kernel's run-time statistics turned on for
    /// this many seconds (by this command, not the host), for the live ns/run at no standing cost.
    double costWindowSeconds = 0;
};
int statusCommand(const StatusOptions& opts);

/// The control socket a status or reload client talks to: `socket` when given, else the one
/// `config` names, else (no config at all) the default. A config that cannot be read is an error
/// (Error with the file's own what/where, file:line:col), never a reason to ask another host: the
/// default socket may be a different host's. Logs which socket it chose and why. `command` names
/// the caller in messages.
std::filesystem::path controlSocketFor(const std::string& config, const std::string& socket,
                                       const std::string& command);

struct ReloadOptions {
    std::string config;
    std::string socket;
    double timeoutSeconds = 60;
    bool json = false;
};
/// Exit statuses of `fizzhost reload`, one per outcome a caller (a service manager, a script)
/// must tell apart.
inline constexpr int kReloadLive = 0;     // the new config is live
inline constexpr int kReloadRefused = 1;  // refused (or applied only partly); the reason is printed
inline constexpr int kReloadNoHost = 3;   // no host answered the request
inline constexpr int kReloadTimeout = 4;  // no answer in time; the reload may still finish
int reloadCommand(const ReloadOptions& opts);

/// The one spelling of detach's command line: either interfaces or --all, never neither.
inline constexpr const char* kDetachUsage = "(IFACE ... | --all) [--config FILE | --state-root DIR]";
struct DetachOptions {
    std::string config;                  // its [service] state_root, unless stateRoot is given
    std::string stateRoot;               // empty: the config's, else /sys/fs/bpf/fizzhost
    std::vector<std::string> interfaces; // empty with all: every pinned interface
    bool all = false;
};
/// Detaches pinned interfaces and removes their pinned state. Refuses while a host holds the state
/// root, and names unknown interfaces (removing nothing then).
int detachCommand(const DetachOptions& opts);

struct BenchOptions {
    PluginDirOptions dir;
    std::vector<std::string> plugins;  // empty: every plugin found
    std::string mix = "uniform";
    std::string transport{config::toString(FIZZ_TRANSPORT_RING)};
    unsigned cpus = 1;
    unsigned rounds = 5;
    unsigned repeat = 20000;
    std::string format = "text";  // text, json (--json), bmf (Bencher Metric Format)
    double confidence = 0.99;     // of the intervals: each mean over the rounds, each plugin over the first
    bool breakdown = false;  // floor, parse+count, classify without emit, full; per transport
};
int benchCommand(const BenchOptions& opts);

struct DiffOptions {
    PluginDirOptions dir;
    std::string bPluginDir;              // B's folder, when not A's
    std::string a, b;                    // NAME or NAME@VERSION
    std::vector<std::string> addresses;  // frames from these sources (or stdin), unless pcap is set
    std::string pcap;                    // every frame of a capture
    FrameShapeOptions shape;             // how frames from addresses look
    std::vector<std::string> expect;     // "none -> Web": cells B is meant to change
    std::string expectFile;              // more of them, one a line
    std::optional<double> maxSlowdown;   // B over A: fail when the interval's lower bound is past it
    double confidence = 0.99;
    unsigned rounds = 10;                // interleaved rounds of the cost measurement
    unsigned repeat = 1000;              // runs per frame per round
    size_t costFrames = 256;             // at most this many frames (evenly spread) are timed
    bool noCost = false;                 // decisions only
    size_t examples = 4;                 // example frames per differing cell
    std::string format = "text";         // text, json (--json), bmf
};
/// Exit statuses of `fizzhost diff`: bit 0 an unexpected difference, bit 1 B slower beyond
/// --max-slowdown; 4 when no verdict could be reached (bad usage, unreadable input, a plugin that
/// cannot be found or loaded).
inline constexpr int kDiffSame = 0;        // the same decisions, or only expected differences; not slower
inline constexpr int kDiffUnexpected = 1;  // a frame differs in a cell not expected
inline constexpr int kDiffSlower = 2;      // B's cost over A's is past --max-slowdown (the whole interval)
inline constexpr int kDiffError = 4;       // nothing was judged
int diffCommand(const DiffOptions& opts);

}  // namespace fizzhost::cli
