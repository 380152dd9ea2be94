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

std::filesystem::path controlSocketFor(const std::string& config, const std::string& socket) {
    if (!socket.empty()) return socket;
    if (config.empty()) return config::HostConfig{}.controlSocket;
    try {
        return config::loadConfig(config, defaultPluginDir()).controlSocket;
    } catch (const Error& e) {
        // The file may be broken now: that is for the host to refuse, and it answers where it
        // listens, which is the default unless the config it started with said otherwise.
        const auto fallback = config::HostConfig{}.controlSocket;
        spdlog::warn("{}; asking the host on the default control socket '{}' (--socket PATH names another)", e.what(),
                     fallback.string());
        return fallback;
    }
}

int reloadCommand(const ReloadOptions& opts) {
    using Outcome = service::ReloadAnswer::Outcome;
    const auto socket = controlSocketFor(opts.config, opts.socket);
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
