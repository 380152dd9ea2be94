// `fizzhost reload`: asks the running host over its control socket to reload its config and waits
// for the outcome, like an API call: the exit status says whether the new config is live.
#include "cli/commands.hpp"

#include "config/config_loader.hpp"
#include "cli/status_text.hpp"
#include "runtime/status/status_json.hpp"
#include "service/control_request.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace fizzhost::cli {

std::filesystem::path controlSocketFor(const std::string& config, const std::string& socket,
                                       const std::string& command) {
    if (!socket.empty()) {
        spdlog::info("{}: control socket '{}' (--socket)", command, socket);
        return socket;
    }
    if (config.empty()) {
        const auto fallback = config::HostConfig{}.controlSocket;
        spdlog::info("{}: control socket '{}' (the default: no --config or --socket given)", command,
                     fallback.string());
        return fallback;
    }
    try {
        const auto path = config::loadConfig(config, defaultPluginDir()).controlSocket;
        spdlog::info("{}: control socket '{}' (from {})", command, path.string(), config);
        return path;
    } catch (const Error& e) {
        // Falling back to the default socket would reach whichever host listens there, which need
        // not be the one this file configures.
        throw Error(command + ": " + e.what() + "; no host was asked (the socket is the file's control_socket; " +
                        "fix the file, or name the socket with --socket PATH)",
                    e.code());
    }
}

int reloadCommand(const ReloadOptions& opts) {
    using Outcome = service::ReloadAnswer::Outcome;
    const auto socket = controlSocketFor(opts.config, opts.socket, "reload");
    const auto timeout = std::chrono::milliseconds(int64_t(opts.timeoutSeconds * 1000));
    const service::ReloadAnswer answer = service::requestReload(socket, timeout);
    const bool answered = answer.outcome == Outcome::Live || answer.outcome == Outcome::Refused;
    if (opts.json && answered) fmt::print("{}\n", runtime::toJson(answer.record).dump());
    switch (answer.outcome) {
    case Outcome::Live:
        if (!opts.json) fmt::print("reload: {}\n", describeReload(answer.record));
        return kReloadLive;
    case Outcome::Refused:
        spdlog::error("reload refused, the host runs on with its previous config: {}", answer.message);
        if (!opts.json) fmt::print("reload: {}\n", describeReload(answer.record));
        return kReloadRefused;
    case Outcome::NoHost: spdlog::error("reload: {}", answer.message); return kReloadNoHost;
    case Outcome::Timeout: spdlog::error("reload: {}", answer.message); return kReloadTimeout;
    }
    return kReloadNoHost;
}

}  // namespace fizzhost::cli
