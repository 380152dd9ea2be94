// `fizzhost --config FILE` (the daemon), `fizzhost check` and `fizzhost status`.
#include "cli/commands.hpp"
#include "cli/cost_window.hpp"
#include "cli/plugin_choice.hpp"
#include "cli/status_text.hpp"

#include "config/config_loader.hpp"
#include "service/control_server.hpp"
#include "runtime/host/host.hpp"
#include "runtime/status/status_json.hpp"
#include "measure/reload_guard.hpp"
#include "service/reload_record.hpp"
#include "service/reload_requests.hpp"
#include "service/config_watch.hpp"
#include "service/metrics_exporter.hpp"
#include "service/notifier.hpp"
#include "service/status_view.hpp"
#include "service/web_config.hpp"
#include "util/error.hpp"
#include "util/failpoint.hpp"
#include "util/output_file.hpp"
#include "util/stop_event.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace fizzhost::cli {
namespace {

// How long a SIGTERM/SIGINT may wait for a start or a reload in progress before the process
// exits without its orderly stop. What that leaves depends on the pinned state, not on on_exit
// (which only an orderly stop carries out): a pinned link stays attached with its program, whose
// messages wait in its pinned regions for the next start; a link not pinned goes with the process.
// The log says which (forcedExitNote).
constexpr auto kStopGrace = std::chrono::seconds(5);
// How often a running progressive rollout is judged (a gate that fails rolls back within this).
constexpr int kRolloutTickMs = 200;
// How often the links are checked for a detach by another process (the kernel tells nobody).
constexpr int kLinkCheckMs = 250;

// The signals the daemon handles are blocked in every thread (threads inherit the mask) and read
// from a signalfd by a thread of their own, so a SIGTERM is seen at any time: while the host
// starts, and while a reload is stuck (a plugin file that blocks, say), not only between them.
// The main thread learns of them through a pollable fd, beside the config watch and the watchdog.
class SignalWatch {
public:
    SignalWatch() {
        sigset_t set;
        sigemptyset(&set);
        for (int sig : {SIGHUP, SIGUSR1, SIGINT, SIGTERM}) sigaddset(&set, sig);
        if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) throwErrno("block signals", errno);
        std::signal(SIGPIPE, SIG_IGN);  // a closed events pipe is a write error, not a death
        fd_.reset(signalfd(-1, &set, SFD_CLOEXEC));
        if (!fd_) throwErrno("signalfd", errno);
        ready_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
        if (!ready_) throwErrno("eventfd", errno);
        thread_ = std::thread([this] { run(); });
    }
    ~SignalWatch() {
        stop_.raise();
        thread_.join();
    }

    /// Readable while a signal waits to be taken.
    int fd() const { return ready_.get(); }
    /// Main thread: the next signal waiting, if any (never blocks).
    std::optional<int> take() {
        std::lock_guard lock(mutex_);
        uint64_t n;
        [[maybe_unused]] ssize_t r = ::read(ready_.get(), &n, sizeof n);
        if (pending_.empty()) return std::nullopt;
        const int sig = pending_.front();
        pending_.erase(pending_.begin());
        waitedMs_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - arrived_.front()).count();
        arrived_.erase(arrived_.begin());
        if (!pending_.empty()) signalReady();
        if (isStop(sig)) taken_.notify_all();
        return sig;
    }
    /// Main thread: how long the signal take() returned last waited for it, in ms (the debug log).
    double waitedMs() const { return waitedMs_; }
    /// What a forced exit leaves behind, for its log line (forcedExitNote).
    void exitNote(std::string note) {
        std::lock_guard lock(mutex_);
        exitNote_ = std::move(note);
    }
    /// Main thread: what it is busy with (for the log when a stop cannot wait), or nullptr.
    void busy(const char* what) {
        std::lock_guard lock(mutex_);
        busy_ = what;
    }

private:
    static bool isStop(int sig) { return sig == SIGINT || sig == SIGTERM; }
    void signalReady() {
        uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(ready_.get(), &one, sizeof one);
    }

    void run() {
        for (;;) {
            try {
                if (stop_.wait(fd_.get()) == StopEvent::Wake::Stopped) return;
            } catch (const Error& e) {
                spdlog::error("{}; signals are no longer taken", e.what());
                return;
            }
            signalfd_siginfo info{};
            if (::read(fd_.get(), &info, sizeof info) != sizeof info) continue;
            const int sig = int(info.ssi_signo);
            std::unique_lock lock(mutex_);
            pending_.push_back(sig);
            arrived_.push_back(std::chrono::steady_clock::now());
            signalReady();
            if (!isStop(sig)) continue;
            // A stop request: the main thread takes it as soon as it is free; if it stays busy,
            // leave without it rather than ignore the signal.
            if (taken_.wait_for(lock, kStopGrace, [&] {
                    return std::find(pending_.begin(), pending_.end(), sig) == pending_.end();
                }))
                continue;
            spdlog::error("{} received {} s ago while {}, which has not finished: exiting now without an orderly stop; "
                          "{}",
                          sig == SIGINT ? "SIGINT" : "SIGTERM", kStopGrace.count(), busy_ ? busy_ : "busy", exitNote_);
            spdlog::default_logger()->flush();
            std::_Exit(128 + sig);
        }
    }

    UniqueFd fd_, ready_;
    StopEvent stop_{"signal watch"};
    std::mutex mutex_;
    std::condition_variable taken_;
    std::vector<int> pending_;
    std::vector<std::chrono::steady_clock::time_point> arrived_;  // when each of pending_ was read
    double waitedMs_ = 0;
    const char* busy_ = "starting";
    std::string exitNote_ = "nothing was attached by this host yet";
    std::thread thread_;
};

// The guard `cfg` asks for (null: none), logged when there is one.
runtime::ReloadGuard guardFor(const config::HostConfig& cfg) {
    if (!cfg.guard.maxSlowdown) return nullptr;
    spdlog::info("reload guard: a new program may be at most {:.2f}x slower than the running one on the '{}' mix",
                 *cfg.guard.maxSlowdown, cfg.guard.mix);
    return measure::makeReloadGuard(*cfg.guard.maxSlowdown, cfg.guard.mix);
}

// What an exit without the orderly stop leaves, said truthfully: on_exit is carried out only by
// the orderly stop; the pins decide what the kernel keeps.
std::string forcedExitNote(const runtime::HostStatus& s) {
    if (!s.stateRoot)
        return "no pinned state: the kernel detaches every XDP link with the process; messages queued in the "
               "transports and events not yet written are lost";
    return fmt::format("the links pinned under {} stay attached with their programs whatever on_exit (= \"{}\") says, "
                       "which only an orderly stop carries out; their messages wait in the pinned regions for the next "
                       "start, which adopts them (`fizzhost detach` removes them); events not yet written to the "
                       "events output are lost",
                       printable(*s.stateRoot), s.keepOnExit ? "keep" : "detach");
}

// What the daemon will do with the events path (util/output_file's rules), or why it refuses it.
std::string eventsPlan(const config::Output& out) {
    const std::string bound = fmt::format("; written by a thread of its own, so a stalled reader never holds up "
                                          "reloads, status or signals (write_timeout_ms = {})",
                                          out.writeTimeoutMs);
    if (out.events == "-")
        return "stdout: a pipe or a terminal is opened again through /proc/self/fd/1 to be written without blocking, "
               "a socket (journald) is sent to without blocking, a file is appended to; while the reader does not keep "
               "up, a batch waits for room at most the write timeout, then its events are counted lost" +
               bound;
    return OutputFile(out.events, OutputFileMode{mode_t(out.eventsMode), out.eventsGroup}).plan() + bound;
}

// FIZZHOST_FAILPOINTS (a test facility, util/failpoint.hpp) is read at start and said in the log.
void warnIfFailpoints() {
    const auto named = enabledFailpoints();
    if (named.empty()) return;
    std::string list, known;
    for (const auto& n : named) list += (list.empty() ? "" : ", ") + printable(n);
    std::vector<std::string> all = knownFailpoints();
    all.insert(all.end(), knownCrashpoints().begin(), knownCrashpoints().end());
    for (const auto& k : all) known += (known.empty() ? "" : ", ") + k;
    spdlog::warn("FIZZHOST_FAILPOINTS is set: failure injection (a test facility) at {}; each fails the first "
                 "reload that reaches it",
                 list);
    for (const auto& n : named)
        if (std::find(all.begin(), all.end(), n) == all.end())
            spdlog::warn("FIZZHOST_FAILPOINTS: unknown failure point '{}' (known: {})", printable(n), known);
}

}  // namespace

int daemonCommand(const DaemonOptions& opts) {
    SignalWatch signals;
    warnIfFailpoints();
    const auto trust = opts.allowInsecure ? config::FileTrust::Insecure : config::FileTrust::Strict;
    auto cfg = config::loadConfig(opts.config, defaultPluginDir(), trust);
    service::Notifier notifier;
    runtime::Host host(cfg, opts.allowInsecure);
    host.setReloadGuard(guardFor(cfg));
    // The socket and the listener first: a path or port we may not use is refused before anything
    // is attached.
    service::LastReload lastReload;
    auto status = [&] {
        auto s = host.status();
        s.lastReload = lastReload.summary();
        return s;
    };
    service::ReloadRequests reloadRequests;  // `fizzhost reload`, run by this thread's loop below
    service::ControlServer control(cfg.controlSocket, status, &reloadRequests);
    std::optional<service::MetricsExporter> metrics;
    if (cfg.metrics.listen) {
        const auto web = service::loadWebSettings(cfg.metrics.webConfig, opts.allowInsecure);
        metrics.emplace(service::MetricsOptions{*cfg.metrics.listen, cfg.metrics.maxConnections, web},
                        [&] { return host.status(); });
        spdlog::info("metrics: serving {} (port {}; {}; at most {} connections)", metrics->url(), metrics->port(),
                     web->describe(), cfg.metrics.maxConnections);
    }
    std::optional<service::ConfigWatch> watch;
    if (cfg.service.watchConfig) watch.emplace(opts.config);
    signals.exitNote("while starting, links already pinned under " + printable(cfg.service.stateRoot.string()) +
                     " stay attached with their programs (the next start adopts them); a link not pinned is detached "
                     "by the kernel with the process");
    host.start();
    signals.exitNote(forcedExitNote(host.status()));
    signals.busy(nullptr);
    spdlog::info("fizzhost running with {} interface(s); SIGHUP reloads {}, SIGTERM stops; status: fizzhost status "
                 "--socket {}; SIGUSR1 reopens the events file",
                 cfg.interfaces.size(), printable(opts.config), printable(cfg.controlSocket.string()));
    notifier.ready(service::statusLine(host.status()));

    // Every reload, whatever asked for it, runs here on this thread, one after another.
    auto reload = [&](service::ReloadTrigger trigger) {
        const char* why = trigger == service::ReloadTrigger::Signal    ? "SIGHUP"
                          : trigger == service::ReloadTrigger::Control ? "reload requested on the control socket"
                                                                       : "config file changed";
        spdlog::info("{}: reloading {}", why, printable(opts.config));
        signals.busy("reloading");
        notifier.reloading();
        service::ReloadRecord record;
        record.at = std::chrono::system_clock::now();
        record.trigger = trigger;
        const auto t0 = std::chrono::steady_clock::now();
        bool ok = false;
        try {
            auto next = config::loadConfig(opts.config, defaultPluginDir(), trust);
            // The web config is part of the config: a bad one refuses the reload; the running one stays.
            std::shared_ptr<const service::WebSettings> web;
            if (metrics) web = service::loadWebSettings(next.metrics.webConfig, opts.allowInsecure);
            spdlog::debug("reload: config read in {:.2f} ms",
                          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
            // The guard is part of the reload, kept only if it commits.
            ok = host.reload(next, guardFor(next), &record.reason);
            if (ok && web) {
                metrics->setWebSettings(web);
                spdlog::info("metrics: {}", web->describe());
            }
            // The listener and the watch are set up once; say so rather than ignore a change silently.
            if (next.metrics.listen != cfg.metrics.listen || next.metrics.maxConnections != cfg.metrics.maxConnections ||
                next.service.watchConfig != cfg.service.watchConfig)
                spdlog::warn("[metrics] listen and [service] watch_config take effect at the next start (so does "
                             "max_connections); still serving metrics on {}, config watch {}",
                             cfg.metrics.listen.value_or("(off)"), cfg.service.watchConfig ? "on" : "off");
        } catch (const Error& e) {
            spdlog::error("reload failed, nothing changed, the running classifiers keep running: {}", e.what());
            record.reason = e.what();
        }
        record.ok = ok;
        record.duration = std::chrono::steady_clock::now() - t0;
        if (ok) record.reason.clear();
        lastReload.set(record);
        if (metrics) metrics->recordReload(ok, record.duration);
        if (watch) watch->rebase();
        notifier.reloaded(service::statusLine(host.status()));
        signals.busy(nullptr);
        return record;
    };

    // The watchdog is pinged from this loop, so a stuck reload or signal path shows as a timeout.
    const auto watchdog = notifier.watchdogInterval();
    const int timeoutMs = watchdog ? int(std::max<int64_t>(1, watchdog->count() / 1000)) : -1;
    for (;;) {
        // Progressive rollouts are judged from this loop too: a few times a second while one runs.
        const bool rolling = host.tickRollouts();
        host.checkLinks();  // a link someone else detached is noticed within kLinkCheckMs
        const int tickMs = rolling ? std::min(kRolloutTickMs, kLinkCheckMs) : kLinkCheckMs;
        const int waitMs = timeoutMs < 0 ? tickMs : std::min(timeoutMs, tickMs);
        pollfd fds[4] = {{signals.fd(), POLLIN, 0}, {watch ? watch->fd() : -1, POLLIN, 0},
                         {reloadRequests.fd(), POLLIN, 0}, {host.linkChangesFd(), POLLIN, 0}};
        int n = ::poll(fds, 4, waitMs);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throwErrno("poll", errno);
        notifier.watchdog();
        // Interfaces deleted or back (rtnetlink): their state is retired or attached again.
        if (fds[3].revents & POLLIN) host.followLinkChanges();
        if (fds[1].revents & POLLIN) {
            try {
                if (watch->changed()) reload(service::ReloadTrigger::ConfigWatch);
            } catch (const Error& e) {
                spdlog::error("config watch failed, the file is no longer watched: {}", e.what());
                watch.reset();
            }
        }
        // READY=1 goes out before the answer, so a service manager waiting on `fizzhost reload`
        // has the end of the reload by the time that command exits.
        if ((fds[2].revents & POLLIN) && reloadRequests.take())
            reloadRequests.finish(reload(service::ReloadTrigger::Control));
        const auto sig = signals.take();
        if (!sig) continue;
        if (*sig == SIGHUP) {
            spdlog::debug("SIGHUP taken {:.2f} ms after it was read", signals.waitedMs());
            reload(service::ReloadTrigger::Signal);
            continue;
        }
        if (*sig == SIGUSR1) {
            spdlog::info("SIGUSR1: reopening the events file");
            host.reopenEvents();
            continue;
        }
        spdlog::info("{}: stopping", *sig == SIGINT ? "SIGINT" : "SIGTERM");
        signals.busy("stopping");
        break;
    }
    reloadRequests.close();  // a `fizzhost reload` still waiting hears that the host went away
    notifier.stopping();
    const runtime::OutputSummary out = host.stop();
    // Say what was lost and why; "every message delivered" only when it is true.
    if (out.lost != 0)
        spdlog::error("{} event(s) lost at the events output {}: {} write(s) failed, the last with {}; {} not written "
                      "within the write timeout, {} dropped with the output's queue full",
                      out.lost, out.sink, out.writeErrors, out.lastErrorText, out.lostWriteTimeout, out.lostQueueFull);
    if (out.dropped != 0)
        spdlog::warn("{} message(s) dropped by the transport (the ring or queue was full: raise ring_slots or "
                     "queue_size)",
                     out.dropped);
    if (out.undecodable != 0) spdlog::warn("{} message(s) the decoders refused (undecodable)", out.undecodable);
    const bool all = out.lost == 0 && out.dropped == 0 && out.undecodable == 0;
    spdlog::info("stopped: {}, {}: {} written, {} lost, {} dropped, {} undecodable",
                 out.leftAttached ? fmt::format("{} interface(s) left attached and pinned (on_exit = \"keep\")",
                                                out.leftAttached)
                                  : std::string("every interface detached"),
                 all ? "every message delivered" : "NOT every message delivered", out.written, out.lost, out.dropped,
                 out.undecodable);
    return 0;
}

int checkCommand(const DaemonOptions& opts) {
    auto cfg = config::loadConfig(opts.config, defaultPluginDir(),
                                  opts.allowInsecure ? config::FileTrust::Insecure : config::FileTrust::Strict);
    // Every part is checked and every problem said, not only the first.
    size_t problems = 0;
    auto part = [&](auto&& fn) {
        try {
            fn();
        } catch (const Error& e) {
            spdlog::error("{}", e.what());
            ++problems;
        }
    };
    part([&] {
        for (const auto& note : service::checkControlSocketPath(cfg.controlSocket)) spdlog::info("control_socket: {}", note);
        spdlog::info("control_socket '{}': OK", cfg.controlSocket.string());
    });
    part([&] {
        const std::string plan = eventsPlan(cfg.output);
        spdlog::info("[output] events '{}': OK: {}", printable(cfg.output.events), plan);
    });
    if (cfg.metrics.listen)
        part([&] {
            const auto web = service::loadWebSettings(cfg.metrics.webConfig, opts.allowInsecure);
            spdlog::info("[metrics] listen '{}': OK: {}, at most {} connections", *cfg.metrics.listen, web->describe(),
                         cfg.metrics.maxConnections);
        });
    part([&] { runtime::Host::check(cfg, opts.allowInsecure); });
    problems += checkPluginChoices(cfg, opts.allowInsecure);
    if (problems) {
        spdlog::error("{}: {} problem(s)", printable(opts.config), problems);
        return 1;
    }
    spdlog::info("{}: OK ({} interface(s))", printable(opts.config), cfg.interfaces.size());
    return 0;
}

int statusCommand(const StatusOptions& opts) {
    auto status = runtime::hostStatusFromJson(service::queryStatus(controlSocketFor(opts.config, opts.socket, "status")));
    if (opts.costWindowSeconds > 0) addCostWindow(status, opts.costWindowSeconds);
    fmt::print("{}", opts.json ? runtime::toJson(status).dump() + "\n" : statusText(status));
    return 0;
}

}  // namespace fizzhost::cli
