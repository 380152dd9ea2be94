// `fizzhost --config FILE` (the daemon), `fizzhost check` and `fizzhost status`.
#include "cli/commands.hpp"

#include "config/config_loader.hpp"
#include "runtime/control_server.hpp"
#include "runtime/host.hpp"
#include "runtime/reload_guard.hpp"
#include "util/error.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>

namespace fizzhost::cli {
namespace {

// Blocks the signals the daemon handles in every thread (threads inherit the mask), and returns a
// signalfd to read them synchronously on the main thread.
UniqueFd blockAndWatchSignals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGHUP, SIGINT, SIGTERM}) sigaddset(&set, sig);
    if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) throwErrno("block signals", errno);
    std::signal(SIGPIPE, SIG_IGN);  // a closed events pipe is a write error, not a death
    UniqueFd fd(signalfd(-1, &set, SFD_CLOEXEC));
    if (!fd) throwErrno("signalfd", errno);
    return fd;
}

void installGuard(runtime::Host& host, const config::HostConfig& cfg) {
    if (!cfg.guard.maxSlowdown) {
        host.setReloadGuard(nullptr);
        return;
    }
    host.setReloadGuard(runtime::makeReloadGuard(*cfg.guard.maxSlowdown, cfg.guard.mix));
    spdlog::info("reload guard: a new program may be at most {:.2f}x slower than the running one on the '{}' mix",
                 *cfg.guard.maxSlowdown, cfg.guard.mix);
}

}  // namespace

int daemonCommand(const DaemonOptions& opts) {
    UniqueFd signals = blockAndWatchSignals();
    auto cfg = config::loadConfig(opts.config, defaultPluginDir());
    runtime::Host host(cfg, opts.allowInsecure);
    installGuard(host, cfg);
    host.start();
    runtime::ControlServer control(cfg.controlSocket, [&] { return host.status(); });
    spdlog::info("fizzhost running with {} interface(s); SIGHUP reloads {}, SIGTERM stops; status: fizzhost status "
                 "--socket {}",
                 cfg.interfaces.size(), opts.config, cfg.controlSocket.string());

    for (;;) {
        signalfd_siginfo info{};
        ssize_t n = ::read(signals.get(), &info, sizeof info);
        if (n < 0 && errno == EINTR) continue;
        if (n != sizeof info) throwErrno("read signalfd", errno);
        if (info.ssi_signo == SIGHUP) {
            spdlog::info("SIGHUP: reloading {}", opts.config);
            try {
                auto next = config::loadConfig(opts.config, defaultPluginDir());
                installGuard(host, next);
                host.reload(next);
            } catch (const Error& e) {
                spdlog::error("reload failed, nothing changed, the running classifiers keep running: {}", e.what());
            }
            continue;
        }
        spdlog::info("{}: stopping", info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
        break;
    }
    host.stop();
    spdlog::info("stopped: every interface detached, every message delivered");
    return 0;
}

int checkCommand(const DaemonOptions& opts) {
    auto cfg = config::loadConfig(opts.config, defaultPluginDir());
    runtime::Host::check(cfg, opts.allowInsecure);
    spdlog::info("{}: OK ({} interface(s))", opts.config, cfg.interfaces.size());
    return 0;
}

int statusCommand(const StatusOptions& opts) {
    std::filesystem::path socket = opts.socket;
    if (socket.empty())
        socket = opts.config.empty() ? config::HostConfig{}.controlSocket
                                     : config::loadConfig(opts.config, defaultPluginDir()).controlSocket;
    auto status = runtime::queryStatus(socket);
    if (opts.json) {
        fmt::print("{}\n", status.dump());
        return 0;
    }
    auto num = [](const nlohmann::json& j, const char* key) -> std::string {
        return j.contains(key) && !j[key].is_null() ? j[key].dump() : "-";
    };
    for (const auto& ifc : status["interfaces"]) {
        fmt::print("interface {}  mode {}  link id {}  program id {}  live {:.1f} ns/run over {} runs{}\n",
                   ifc["name"].get<std::string>(), ifc["mode"].get<std::string>(), num(ifc, "link_id"),
                   num(ifc, "program_id"), ifc.value("ns_per_run", 0.0), num(ifc, "runs"),
                   ifc.contains("percent") ? fmt::format("  rollout {}% to candidate", ifc["percent"].get<int>()) : "");
        // Per variant: that program instance's counts since it went live; totals: the interface's
        // since it was attached, retired instances included.
        fmt::print("  {:<10} {:<12} {:<8} {:>12} {:>12} {:>9} {:>12} {:>11}  {}\n", "VARIANT", "PLUGIN", "VERSION",
                   "PACKETS", "MESSAGES", "DROPPED", "DELIVERED", "UNDECODABLE", "PER KIND");
        auto row = [&](const std::string& variant, const std::string& plugin, const std::string& version,
                       const nlohmann::json& v) {
            std::string kinds;
            for (const auto& [k, n] : v["kinds"].items()) kinds += fmt::format("{}={} ", k, n.get<uint64_t>());
            fmt::print("  {:<10} {:<12} {:<8} {:>12} {:>12} {:>9} {:>12} {:>11}  {}\n", variant, plugin, version,
                       num(v, "packets"), num(v, "emitted"), num(v, "dropped"), num(v, "delivered"),
                       num(v, "undecodable"), kinds);
        };
        for (const auto& v : ifc["variants"]) {
            row(v["variant"].get<std::string>(), v["plugin"].get<std::string>(), v.value("version", std::string("-")), v);
            if (!v.value("counts_packets", true))
                fmt::print("  ! {} {} emits but never calls fizz_count_packet(): its PACKETS read 0\n",
                           v["plugin"].get<std::string>(), v.value("version", std::string("-")));
        }
        if (ifc.contains("totals")) row("(total)", "-", "-", ifc["totals"]);
    }
    if (status.value("run_time_stats", false))
        fmt::print("(live ns/run from the kernel's BPF run-time statistics, enabled while fizzhost runs; behind the "
                   "A/B dispatcher it covers dispatcher and variant together)\n");
    return 0;
}

}  // namespace fizzhost::cli
