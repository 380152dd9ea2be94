// The control socket: a Unix stream socket that answers each connection's request (control_request.hpp)
// with one JSON document: the host's status (what `fizzhost status` reads) or, for `fizzhost
// reload`, the outcome of a reload run by the daemon's main thread. Root-only (0600).
#pragma once

#include "runtime/status/host_status.hpp"
#include "util/stop_event.hpp"
#include "util/unique_fd.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace fizzhost::service {

class ReloadRequests;

class ControlServer {
public:
    using StatusFn = std::function<runtime::HostStatus()>;
    /// Binds `path`. Its folder is created (0755) when missing and must be owned by root (or by
    /// this process's user) and writable by nobody else, nor may any folder above it be open to
    /// renames by others (see checkControlSocketPath). Refuses when another live host answers
    /// there, and when anything but a socket sits at `path`; removes only a stale socket (one that
    /// refuses connections). Reload requests go to `reloads` (null: refused); its requests are
    /// closed when the server stops, and it must outlive the server. Throws Error.
    ControlServer(std::filesystem::path path, StatusFn status, ReloadRequests* reloads = nullptr);
    ~ControlServer();

private:
    void run();
    std::filesystem::path path_;
    dev_t dev_ = 0;  // the socket file we bound, so the destructor removes only that one
    ino_t ino_ = 0;
    StatusFn status_;
    ReloadRequests* reloads_;
    UniqueFd listen_;
    StopEvent stop_{"control socket"};
    std::thread thread_;
};

/// What `fizzhost check` and the server check about a control socket path, without changing
/// anything: the folder (or, when missing, the nearest existing folder above it) and every folder
/// above it must not let a user other than root (or this process's user) replace the socket;
/// whatever sits at the path must be a socket. Returns notes for the user (e.g. "a host answers
/// there", "the folder will be created"). Throws Error saying what is wrong and how to fix it.
std::vector<std::string> checkControlSocketPath(const std::filesystem::path& path);

/// Connects to a host's control socket and returns its status. Throws Error naming the path.
nlohmann::json queryStatus(const std::filesystem::path& path);

}  // namespace fizzhost::service
