// What a client asks the control socket, and the client side of a reload request.
//
// Protocol: the client connects and sends one JSON line, {"request":"status"} or
// {"request":"reload"}, and reads one JSON document until the host closes the connection. A client
// that sends nothing (closes its end, or stays silent for kRequestWait) gets the status, as before
// requests existed. A reload is answered only once it finished: {"reload": <ReloadRecord JSON>};
// a request the host cannot take is answered {"error": "..."}.
#pragma once

#include "runtime/status/host_status.hpp"
#include "util/unique_fd.hpp"

#include <nlohmann/json.hpp>
#include <sys/un.h>

#include <chrono>
#include <filesystem>
#include <string>

namespace fizzhost::service {

enum class ControlRequest { Status, Reload };

/// How long the host waits for a request line before it answers with the status.
inline constexpr std::chrono::milliseconds kRequestWait{250};

/// The line a client sends for `request`, newline included.
std::string requestLine(ControlRequest request);

/// Host side: reads the request on connection `fd` (at most `wait` for it to arrive). Throws Error
/// naming what was received when it is not a request this host knows.
ControlRequest readRequest(int fd, std::chrono::milliseconds wait = kRequestWait);

/// The socket address of `path`. Throws Error (ENAMETOOLONG) when it does not fit sun_path.
sockaddr_un controlAddress(const std::filesystem::path& path);

/// Connects to the control socket at `path`; an empty UniqueFd with errno set when nobody answers
/// (ECONNREFUSED: a stale socket; ENOENT: none). Throws Error when the path cannot be a socket address.
UniqueFd connectControl(const std::filesystem::path& path);

/// Writes all of `text` to a connection, giving up silently when the peer is gone.
void sendAll(int fd, const std::string& text);

struct ReloadAnswer {
    enum class Outcome {
        Live,     // the new config is live
        Refused,  // the host refused it (or applied it only partly) and runs on; message says why
        NoHost,   // nobody answered the request (no host, a stale socket, a host that stopped or
                  // does not take reload requests)
        Timeout,  // no answer in time; the reload may still finish
    };
    Outcome outcome = Outcome::NoHost;
    runtime::ReloadSummary record;  // the host's record of the reload (Live and Refused)
    std::string message;    // for people: the reason, or what went wrong reaching the host
};

/// Client side: asks the host at `path` to reload its config and waits up to `timeout` for the
/// outcome. Never throws for a host that is missing, slow or gone: that is the answer.
ReloadAnswer requestReload(const std::filesystem::path& path, std::chrono::milliseconds timeout);

}  // namespace fizzhost::service
