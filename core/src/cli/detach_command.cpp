// fizzhost detach: removes what hosts with on_exit = "keep" (or killed ones) left attached and
// pinned. Works without a running host; refuses while one holds the state root, whose pins it
// would pull from under it (that host detaches an interface when its config stops naming it).
#include "bpf/pin.hpp"
#include "cli/commands.hpp"
#include "config/config_loader.hpp"
#include "runtime/pinned/pin_store.hpp"
#include "util/error.hpp"

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace fizzhost::cli {

int detachCommand(const DetachOptions& opts) {
    if (opts.all == !opts.interfaces.empty())
        throw Error(std::string("detach: name the interfaces to detach, or --all (not both); usage: fizzhost detach ") +
                        kDetachUsage,
                    EINVAL);
    std::filesystem::path root = opts.stateRoot;
    if (!root.empty()) {
        spdlog::info("detach: state root '{}' (--state-root)", root.string());
    } else if (opts.config.empty()) {
        root = config::HostConfig{}.service.stateRoot;
        spdlog::info("detach: state root '{}' (the default: no --config or --state-root given)", root.string());
    } else {
        try {
            root = config::loadConfig(opts.config, defaultPluginDir()).service.stateRoot;
        } catch (const Error& e) {
            // The default state root may be another host's: never a fallback for a broken file.
            throw Error(std::string("detach: ") + e.what() + "; nothing was detached (fix the file, or name the " +
                            "state root with --state-root PATH)",
                        e.code());
        }
        spdlog::info("detach: state root '{}' (from {})", root.string(), opts.config);
    }
    if (!bpf::onBpffs(root)) {
        if (opts.all) {
            fmt::print("nothing pinned: state root '{}' is not a folder on a bpf filesystem\n", root.string());
            return 0;
        }
        throw Error("detach: no pinned state: state root '" + root.string() +
                        "' is not a folder on a bpf filesystem (another --state-root or --config?)",
                    ENOENT);
    }
    bpf::DirLock lock = bpf::DirLock::tryLock(root);
    if (!lock)
        throw Error("detach: state root '" + root.string() +
                        "' is in use by a running fizzhost; stop it first (its [service] on_exit decides what it leaves), "
                        "or remove the interface from its config and reload it, which detaches it",
                    EBUSY);
    runtime::PinStore pins = runtime::PinStore::openUnlocked(root);
    const std::vector<std::string> pinned = pins.interfaces();
    std::vector<std::string> targets = opts.all ? pinned : opts.interfaces;
    std::string unknown;
    for (const auto& name : targets)
        if (std::find(pinned.begin(), pinned.end(), name) == pinned.end())
            unknown += (unknown.empty() ? "'" : ", '") + name + "'";
    if (!unknown.empty()) {
        std::string have;
        for (const auto& n : pinned) have += (have.empty() ? "" : ", ") + n;
        throw Error("detach: no pinned state for interface(s) " + unknown + " under '" + root.string() +
                        "'; pinned: " + (have.empty() ? "none" : have) + "; nothing was detached",
                    ENOENT);
    }
    for (const auto& name : targets) fmt::print("{}\n", pins.remove(name));
    if (targets.empty()) fmt::print("nothing pinned under '{}'\n", root.string());
    bpf::removeIfEmpty(root);  // while the lock is held: the next host makes it again
    return 0;
}

}  // namespace fizzhost::cli
