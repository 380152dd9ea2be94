#include "runtime/control_server.hpp"

#include "util/error.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace fizzhost::runtime {
namespace {

sockaddr_un addressOf(const std::filesystem::path& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.string().size() >= sizeof addr.sun_path)
        throw Error("control socket path '" + path.string() + "' is too long", ENAMETOOLONG);
    std::strcpy(addr.sun_path, path.c_str());
    return addr;
}

UniqueFd connectTo(const std::filesystem::path& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) throwErrno("control socket: socket", errno);
    sockaddr_un addr = addressOf(path);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
    return fd;
}

void writeAll(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;
        off += size_t(n);
    }
}

}  // namespace

ControlServer::ControlServer(std::filesystem::path path, StatusFn status) : path_(std::move(path)), status_(std::move(status)) {
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    if (std::filesystem::exists(path_, ec)) {
        if (connectTo(path_)) throw Error("control socket '" + path_.string() + "': another fizzhost is running there", EADDRINUSE);
        std::filesystem::remove(path_, ec);  // stale, from a host that died
    }
    listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listen_) throwErrno("control socket: socket", errno);
    sockaddr_un addr = addressOf(path_);
    mode_t old = umask(0077);
    int rc = ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    umask(old);
    if (rc != 0) throwErrno("control socket '" + path_.string() + "': bind", errno);
    if (::listen(listen_.get(), 8) != 0) throwErrno("control socket '" + path_.string() + "': listen", errno);
    stopFd_.reset(eventfd(0, EFD_CLOEXEC));
    thread_ = std::thread([this] { run(); });
}

ControlServer::~ControlServer() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stopFd_.get(), &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    std::error_code ec;
    std::filesystem::remove(path_, ec);
}

void ControlServer::run() {
    for (;;) {
        pollfd fds[2] = {{listen_.get(), POLLIN, 0}, {stopFd_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents) return;
        UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) continue;
        try {
            writeAll(conn.get(), status_().dump() + "\n");
        } catch (const std::exception& e) {
            writeAll(conn.get(), nlohmann::json{{"error", e.what()}}.dump() + "\n");
        }
    }
}

nlohmann::json queryStatus(const std::filesystem::path& path) {
    UniqueFd fd = connectTo(path);
    if (!fd) throwErrno("control socket '" + path.string() + "': connect (is fizzhost running with this config?)", errno);
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, size_t(n));
    }
    try {
        return nlohmann::json::parse(text);
    } catch (const std::exception& e) {
        throw Error("control socket '" + path.string() + "': unreadable answer: " + e.what(), EPROTO);
    }
}

}  // namespace fizzhost::runtime
