#include "service/control_request.hpp"

#include "runtime/status/status_json.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace fizzhost::service {
namespace {

constexpr size_t kMaxRequest = 4096;

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : int(left);
}

}  // namespace

std::string requestLine(ControlRequest request) {
    return nlohmann::json{{"request", request == ControlRequest::Reload ? "reload" : "status"}}.dump() + "\n";
}

ControlRequest readRequest(int fd, std::chrono::milliseconds wait) {
    const auto deadline = Clock::now() + wait;
    std::string line;
    char buf[512];
    while (line.find('\n') == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, remainingMs(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) break;  // silence: a client that only reads
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // the client closed its end
        line.append(buf, size_t(n));
        if (line.size() > kMaxRequest)
            throw Error("control request longer than " + std::to_string(kMaxRequest) + " bytes", EMSGSIZE);
    }
    line = line.substr(0, line.find('\n'));
    if (line.find_first_not_of(" \t\r") == std::string::npos) return ControlRequest::Status;
    std::string what;
    try {
        what = nlohmann::json::parse(line).at("request").get<std::string>();
    } catch (const std::exception&) {
        throw Error("unreadable control request '" + printable(line) + "' (expected {\"request\":\"status\"} or "
                    "{\"request\":\"reload\"})",
                    EPROTO);
    }
    if (what == "status") return ControlRequest::Status;
    if (what == "reload") return ControlRequest::Reload;
    throw Error("unknown control request '" + printable(what) + "' (this host knows \"status\" and \"reload\")",
                EPROTO);
}

sockaddr_un controlAddress(const std::filesystem::path& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.string().size() >= sizeof addr.sun_path)
        throw Error("control socket path '" + printable(path.string()) + "' is too long", ENAMETOOLONG);
    std::strcpy(addr.sun_path, path.c_str());
    return addr;
}

UniqueFd connectControl(const std::filesystem::path& path) {
    sockaddr_un addr = controlAddress(path);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throwErrno("control socket: socket", errno);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int err = errno;
        fd.reset();
        errno = err;  // callers tell a stale socket (ECONNREFUSED) from other failures
        return UniqueFd();
    }
    return fd;
}

void sendAll(int fd, const std::string& text) {
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::send(fd, text.data() + off, text.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        off += size_t(n);
    }
}

ReloadAnswer requestReload(const std::filesystem::path& path, std::chrono::milliseconds timeout) {
    using Outcome = ReloadAnswer::Outcome;
    const auto deadline = Clock::now() + timeout;
    const std::string where = "control socket '" + printable(path.string()) + "'";
    ReloadAnswer answer;
    UniqueFd fd;
    try {
        fd = connectControl(path);
    } catch (const Error& e) {
        answer.message = e.what();
        return answer;
    }
    if (!fd) {
        answer.message = where + ": " + errnoText(errno) + ": no fizzhost answers there (is it running, with this "
                         "control_socket?)";
        return answer;
    }
    sendAll(fd.get(), requestLine(ControlRequest::Reload));
    std::string text;
    char buf[4096];
    for (;;) {
        pollfd p{fd.get(), POLLIN, 0};
        const int ready = ::poll(&p, 1, remainingMs(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) {
            answer.message = where + ": poll: " + errnoText(errno);
            return answer;
        }
        if (ready == 0) {
            answer.outcome = Outcome::Timeout;
            answer.message = where + ": no answer within " + fmt::format("{:g}", double(timeout.count()) / 1000) +
                             " s; the reload may still finish (fizzhost status shows the last one)";
            return answer;
        }
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            answer.message = where + ": read: " + errnoText(errno);
            return answer;
        }
        if (n == 0) break;
        text.append(buf, size_t(n));
    }
    if (text.empty()) {
        answer.message = where + ": the host closed the connection without an answer (it is stopping)";
        return answer;
    }
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const std::exception& e) {
        answer.message = where + ": unreadable answer: " + e.what();
        return answer;
    }
    if (doc.contains("error")) {
        answer.message = where + ": the host did not take the request: " + doc["error"].dump();
        return answer;
    }
    if (!doc.contains("reload") || !doc["reload"].is_object()) {
        answer.message = where + ": the host answered with its status, not a reload: it does not take reload "
                         "requests (an older fizzhost?); send it SIGHUP";
        return answer;
    }
    try {
        answer.record = runtime::reloadSummaryFromJson(doc["reload"]);
    } catch (const Error& e) {
        answer.message = where + ": unreadable answer: " + e.what();
        return answer;
    }
    answer.outcome = answer.record.ok ? Outcome::Live : Outcome::Refused;
    answer.message = answer.record.ok            ? "the new config is live"
                     : answer.record.reason.empty() ? std::string("refused")
                                                    : answer.record.reason;
    return answer;
}

}  // namespace fizzhost::service
