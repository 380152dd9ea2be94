// The running host: attachments per interface, the message pump and the reload transaction.
//
// A reload prepares the complete new state first (plugins loaded, programs verified, dispatcher
// filled, regression guard passed) for every interface; if anything fails nothing changes. Only
// then does it commit, per interface, with one atomic kernel operation (bpf_link_update with the
// expected old program, or a prog-array/split-map update during a rollout), wait for programs
// already running to finish, and retire the old state after draining its messages. The transaction
// itself is runtime/reload/reload_plan.hpp; the host orchestrates it and keeps the books.
#pragma once

#include "config/host_config.hpp"
#include "decoder/decoder_service.hpp"
#include "plugin/catalog.hpp"
#include "runtime/attachment/attachment.hpp"
#include "runtime/host/run_time_stats.hpp"
#include "runtime/instance/region_spares.hpp"
#include "runtime/lifecycle/gone_interfaces.hpp"
#include "runtime/lifecycle/link_watch.hpp"
#include "runtime/output/event_writer.hpp"
#include "runtime/output/pump.hpp"
#include "runtime/output/uncounted_warnings.hpp"
#include "runtime/pinned/pin_store.hpp"
#include "runtime/reload/reload_plan.hpp"
#include "runtime/rollout/rollout_book.hpp"
#include "runtime/status/host_status.hpp"
#include "util/phase_times.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace fizzhost::runtime {

/// What became of the events since the host started: the shutdown line's figures.
struct OutputSummary {
    uint64_t written = 0;      // events the events output took
    uint64_t lost = 0;         // events decoded but lost because the write carrying them failed
    uint64_t writeErrors = 0;  // failed write calls
    int lastError = 0;         // errno of the last failed write
    std::string lastErrorText; // ... in words (ETIMEDOUT: the write timeout that passed)
    uint64_t lostWriteTimeout = 0, lostQueueFull = 0;  // of lost: not taken in time; the output's queue full
    uint64_t dropped = 0;      // messages the transport dropped (full), interfaces attached at stop
    uint64_t undecodable = 0;  // messages the decoders refused, interfaces attached at stop
    std::string sink;          // where the events went, for messages
    size_t leftAttached = 0;   // interfaces left attached and pinned (on_exit = "keep")
};

class Host {
public:
    /// `allowInsecurePlugins` from the command line; the config key can also allow it.
    Host(config::HostConfig config, bool allowInsecurePlugins);
    ~Host();

    /// Opens the events sink, attaches every configured interface and starts the pump. Throws
    /// Error (and leaves nothing attached) when any interface fails.
    void start();
    /// Applies `next`, judging program swaps with `guard` (the one `next` asks for; null: none).
    /// The guard, like the catalog, becomes the host's only when the reload is committed. Returns
    /// false (and changes nothing) when preparing it failed; the reason is logged, and also
    /// stored in `why` when given (as is why an interface kept its programs). Never throws.
    bool reload(const config::HostConfig& next, ReloadGuard guard, std::string* why = nullptr);
    /// Detaches everything, drains what is left and stops the pump. Returns the output's figures
    /// (all zero when the host was not running).
    OutputSummary stop();
    /// Any thread: the events file is closed and opened again by path at the pump's next pass
    /// (SIGUSR1 after a log rotation). Never throws.
    void reopenEvents();

    /// Counters, programs and links per interface and variant (the control socket's answer). Any
    /// thread. Throws Error when the kernel's figures cannot be read.
    HostStatus status() const;
    /// The live figures of the rollout on `ifname` (per-variant cost; see RolloutFigures), or
    /// nullopt when the interface runs no rollout. Any thread. Throws Error when a map read fails.
    std::optional<RolloutFigures> rolloutFigures(const std::string& ifname) const;
    /// Loads (never attaches) every program `cfg` names. Throws Error. For `fizzhost check`.
    static void check(const config::HostConfig& cfg, bool allowInsecurePlugins);

    void setReloadGuard(ReloadGuard guard) { guard_ = std::move(guard); }

    /// Judges every progressive rollout on its current figures and carries out what its controller
    /// decides (advance: one map write; rollback and promotion: one bpf_link_update). Call from
    /// the daemon's loop, a few times a second. Returns whether a rollout is still under way.
    /// Never throws (failures are logged and shown in status).
    bool tickRollouts();

    /// Readable while interface changes (rtnetlink) wait for followLinkChanges(); -1 before start()
    /// and when they cannot be watched. The caller's loop polls it.
    int linkChangesFd() const;
    /// Takes the interface changes waiting: retires the state of an interface whose device went
    /// and attaches the configured classifier again when an interface of that name appears. Call
    /// when linkChangesFd() is readable. Never blocks or throws (failures are logged).
    void followLinkChanges();

    /// Notices links someone else detached (BPF_LINK_DETACH) and applies each interface's
    /// on_detach policy (host_detach.cpp). One syscall per interface; call from the daemon's loop,
    /// a few times a second. Never throws (failures are logged and shown in status).
    void checkLinks();

private:
    void onForeignDetach(const std::string& name, Attachment& a);
    /// Attaches `a`'s running programs again after a foreign detach or a stay_off. Throws Error.
    void reattach(Attachment& a);
    /// What prepareReload() and commitReload() use: the host's own settings, catalog and parts.
    ReloadContext reloadContext();
    /// commitReload(), keeping a new interface. Throws Error. Every committed plan then goes
    /// through retireAndRecord().
    void commit(ReloadPlan& plan);
    /// One in-flight wait for all `plans`, their replaced state drained, then the outcome record of
    /// each plan that changed kernel state. Never throws but bad_alloc.
    void retireAndRecord(std::span<const std::unique_ptr<ReloadPlan>> plans);
    void detach(Attachment& a);
    /// prepare + commit of `ifc` on the running attachment `a`. Throws Error.
    void apply(const config::Interface& ifc, Attachment& a);
    // Progressive rollouts (host_rollouts.cpp).
    void announce(const std::string& iface, const RolloutDecision& d);
    void announceStarts();
    void steer(const std::string& iface, Attachment& a, RolloutBook::Entry& e, RolloutClock::time_point now);

    // Pinned state (host_pins.cpp, runtime/pinned/pin_store.hpp). A host pins every attachment it commits
    // and, at start, adopts what a previous host left for a configured interface.
    void openPins();
    void sweepUnconfiguredPins();
    /// At start: when `ifc` has pinned state, adopts it into attachments_ (its sources drained from
    /// now on) and returns it with whether its programs must be loaded anew; else {nullptr, false}.
    std::pair<Attachment*, bool> adoptPinned(const config::Interface& ifc);
    void savePins(const Attachment& a) noexcept;
    /// Pinned state adoptPinned() could not adopt (host_salvage.cpp): keeps the link when it can
    /// (keptLinks_: the fresh plan updates it instead of attaching), drains every region it can
    /// reach (salvaged_) and counts the rest as lost.
    void salvagePinned(const config::Interface& ifc, const std::string& why);
    /// After `ifname`'s commit: the salvaged regions' last drain, then they are retired.
    void finishSalvage(const std::string& ifname);
    void countLostAtStart(const std::string& ifname, uint64_t messages, const std::string& why);
    // Counts what a host before popped from `s`'s queue and never wrote (queue transport only).
    void countPoppedUnwritten(const std::string& ifname, const MessageSource& s);
    /// At start: resumes `ifc`'s progressive rollout in `book` where the pinned record says the
    /// previous host left it, when that host ran the same table.
    void resumeRollout(RolloutBook& book, const config::Interface& ifc);
    /// At exit or after a failed start: on_exit = "keep" leaves `a` attached and pinned (its
    /// waiting messages delivered now), "detach" detaches it and removes its pins. True: left attached.
    bool leave(Attachment& a);
    /// Spare regions maps for the next reload, per [output] spare_regions (region_spares.hpp).
    void settleSpares();

    // Interface lifecycle (host_links.cpp; runtime/lifecycle/). A configured interface that the
    // kernel deletes leaves attachments_ for gone_ (its sources drained, its link released); when
    // an interface of that name appears again, its classifier is attached anew. All run under mutex_.
    void startLinkWatch();
    void onLinkChange(const LinkChange& change);
    void retireGone(const std::string& name, const std::string& why);
    std::optional<std::string> attachedName(int ifindex) const;
    void attachReturned(const std::string& name);
    void resyncLinks();
    bool prepareGone(const config::Interface& ifc);

    config::HostConfig cfg_;
    bool cliInsecure_;  // --allow-insecure-plugins: fixed for the process's life
    bool insecure_;     // in force now: the command line or the config's allow_insecure_plugins
    plugin::Catalog catalog_;
    // Where the sources' decoders run: confined workers by default. Declared before the pump and
    // the sources' holders, so it outlives every channel's user; [decoders] changes take effect on
    // restart.
    std::unique_ptr<decoder::DecoderService> decoders_;
    std::unique_ptr<EventWriter> writer_;
    std::unique_ptr<Pump> pump_;
    RunTimeStats runStats_;  // under mutex_
    ReloadGuard guard_;
    RolloutBook rollouts_;  // under mutex_
    mutable std::mutex mutex_;  // attachments_ between reloads and status readers
    std::map<std::string, std::unique_ptr<Attachment>> attachments_;
    GoneInterfaces gone_;                    // configured, but the device was deleted
    std::unique_ptr<LinkWatch> linkWatch_;   // set by start(), dropped by stop() (the caller's thread)
    std::unique_ptr<PinStore> pins_;         // null when the state root is unusable (on_exit = "detach")
    PhaseTimes phases_;  // under mutex_: where a reload's time goes (the debug log)
    RegionSpares spares_;  // under mutex_: settled after every start, reload and attach
    UncountedWarnings uncounted_;
    // Start only (under mutex_): links kept and sources drained from pinned state that could not
    // be adopted, and what the start counted as lost (status: lost_at_start).
    std::map<std::string, bpf::XdpLink> keptLinks_;
    std::map<std::string, std::vector<std::shared_ptr<MessageSource>>> salvaged_;
    struct StartLoss {
        uint64_t messages = 0;
        std::vector<std::string> reasons;
    };
    std::map<std::string, StartLoss> lostAtStart_;
};

}  // namespace fizzhost::runtime
