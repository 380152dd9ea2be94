// The control socket: a Unix stream socket that answers every connection with the host's status
// as one JSON document (what `fizzhost status` reads). Root-only (0600).
#pragma once

#include "bpf/unique_fd.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <functional>
#include <thread>

namespace fizzhost::runtime {

class ControlServer {
public:
    using StatusFn = std::function<nlohmann::json()>;
    /// Binds `path` (creating its folder). Refuses when another live host answers there; removes a
    /// stale socket file. Throws Error.
    ControlServer(std::filesystem::path path, StatusFn status);
    ~ControlServer();

private:
    void run();
    std::filesystem::path path_;
    StatusFn status_;
    UniqueFd listen_, stopFd_;
    std::thread thread_;
};

/// Connects to a host's control socket and returns its status. Throws Error naming the path.
nlohmann::json queryStatus(const std::filesystem::path& path);

}  // namespace fizzhost::runtime
