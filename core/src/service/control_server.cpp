#include "service/control_server.hpp"

#include "runtime/status/status_json.hpp"
#include "service/control_request.hpp"
#include "service/reload_requests.hpp"

#include "util/error.hpp"
#include "util/text.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace fizzhost::service {
namespace {

std::string fileType(mode_t mode) {
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a folder";
    if (S_ISLNK(mode)) return "a symbolic link";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
    if (S_ISSOCK(mode)) return "a socket";
    return "an unknown kind of file";
}

// Root, or the user this process runs as (a host started without root for development).
bool trustedOwner(uid_t uid) { return uid == 0 || uid == geteuid(); }

// A folder in which nobody but a trusted user can create, rename or remove the socket. Above the
// socket's own folder a sticky folder (like /tmp) is fine: there others cannot rename what they
// do not own.
void checkFolder(const std::filesystem::path& dir, bool socketFolder, const std::filesystem::path& socket) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) throwErrno("control socket '" + printable(socket.string()) + "': folder '" + dir.string() + "'", errno);
    const std::string what = "control socket '" + printable(socket.string()) + "': " +
                             (socketFolder ? "its folder '" : "folder above it '") + printable(dir.string()) + "'";
    if (!S_ISDIR(st.st_mode)) throw Error(what + " is " + fileType(st.st_mode) + ", not a folder", ENOTDIR);
    if (!trustedOwner(st.st_uid))
        throw Error(what + " is owned by uid " + std::to_string(st.st_uid) +
                        ", not root: that user could replace the socket with a spoofed one (chown root '" +
                        printable(dir.string()) + "', or choose another control_socket)",
                    EPERM);
    const bool writableByOthers = st.st_mode & (S_IWGRP | S_IWOTH);
    if (writableByOthers && (socketFolder || !(st.st_mode & S_ISVTX)))
        throw Error(what + fmt::format(" is writable by {} (mode {:04o}): another user could replace the socket "
                                       "with a spoofed one (chmod go-w '{}', or choose another control_socket)",
                                       (st.st_mode & S_IWOTH) ? "others" : "its group", st.st_mode & 07777,
                                       printable(dir.string())),
                    EPERM);
}

// `dir` and every folder above it, as written and as resolved (a symlink lives in the folder that
// holds it, its target elsewhere: both must be safe).
void checkFolderChain(const std::filesystem::path& dir, bool strict, const std::filesystem::path& socket) {
    std::error_code ec;
    const auto real = std::filesystem::canonical(dir, ec);
    if (ec) throw Error("control socket '" + printable(socket.string()) + "': folder '" + dir.string() + "': " + ec.message(), ec.value());
    for (const auto& start : {dir, real}) {
        bool first = true;
        for (auto p = start;; p = p.parent_path()) {
            checkFolder(p, first && strict, socket);
            first = false;
            if (p == p.root_path() || p.parent_path() == p) break;
        }
    }
}

}  // namespace

std::vector<std::string> checkControlSocketPath(const std::filesystem::path& path) {
    std::vector<std::string> notes;
    const auto absolute = std::filesystem::absolute(path);
    const auto dir = absolute.parent_path();
    std::error_code ec;
    auto existing = dir;
    while (!std::filesystem::exists(existing, ec) && existing != existing.root_path()) existing = existing.parent_path();
    const bool folderExists = existing == dir;
    checkFolderChain(existing, folderExists, absolute);
    if (!folderExists) {
        notes.push_back("folder '" + printable(dir.string()) + "' does not exist; fizzhost creates it (mode 0755)");
        return notes;
    }
    struct stat st {};
    if (::lstat(absolute.c_str(), &st) != 0) {
        if (errno == ENOENT) return notes;
        throwErrno("control socket '" + printable(absolute.string()) + "'", errno);
    }
    if (!S_ISSOCK(st.st_mode))
        throw Error("control socket '" + printable(absolute.string()) + "': the path holds " + fileType(st.st_mode) +
                        ", not a socket; fizzhost removes only a stale socket of its own: move it away or set "
                        "control_socket to another path",
                    EEXIST);
    if (connectControl(absolute))
        notes.push_back("a running host answers on '" + printable(absolute.string()) + "'");
    else if (errno == ECONNREFUSED)
        notes.push_back("'" + printable(absolute.string()) + "' is a stale socket (nobody answers); it is replaced at start");
    else
        throwErrno("control socket '" + printable(absolute.string()) + "': cannot tell whether the socket there is stale", errno);
    return notes;
}

ControlServer::ControlServer(std::filesystem::path path, StatusFn status, ReloadRequests* reloads)
    : path_(std::move(path)), status_(std::move(status)), reloads_(reloads) {
    checkControlSocketPath(path_);
    const auto dir = std::filesystem::absolute(path_).parent_path();
    // Create the missing folders one by one, root-owned 0755 (never group- or world-writable).
    std::vector<std::filesystem::path> missing;
    std::error_code ec;
    for (auto p = dir; !std::filesystem::exists(p, ec) && p != p.root_path(); p = p.parent_path()) missing.push_back(p);
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST)
            throwErrno("control socket '" + printable(path_.string()) + "': create folder '" + it->string() + "'", errno);
        spdlog::info("control socket: created folder '{}' (mode 0755)", printable(it->string()));
    }
    if (!missing.empty()) checkControlSocketPath(path_);  // what we made, or what raced us to it

    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) checkControlSocketPath(path_);  // throws: not a socket
        if (connectControl(path_)) throw Error("control socket '" + printable(path_.string()) + "': another fizzhost is running there", EADDRINUSE);
        if (errno != ECONNREFUSED)
            throwErrno("control socket '" + printable(path_.string()) + "': cannot tell whether the socket there is stale", errno);
        if (::unlink(path_.c_str()) != 0 && errno != ENOENT)
            throwErrno("control socket '" + printable(path_.string()) + "': remove the stale socket", errno);
        spdlog::info("control socket: removed the stale socket '{}' (nobody answered on it)", printable(path_.string()));
    }
    listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listen_) throwErrno("control socket: socket", errno);
    sockaddr_un addr = controlAddress(path_);
    mode_t old = umask(0077);
    int rc = ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    umask(old);
    if (rc != 0) throwErrno("control socket '" + printable(path_.string()) + "': bind", errno);
    if (::lstat(path_.c_str(), &st) == 0) {
        dev_ = st.st_dev;
        ino_ = st.st_ino;
    }
    if (::listen(listen_.get(), 8) != 0) throwErrno("control socket '" + printable(path_.string()) + "': listen", errno);
    thread_ = std::thread([this] { run(); });
}

ControlServer::~ControlServer() {
    stop_.raise();
    if (reloads_) reloads_->close();  // a request waiting for the main thread gets no answer
    if (thread_.joinable()) thread_.join();
    // Only the socket we bound: whatever replaced it since is not ours to delete.
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev_ && st.st_ino == ino_)
        ::unlink(path_.c_str());
}

void ControlServer::run() {
    for (;;) {
        try {
            if (stop_.wait(listen_.get()) == StopEvent::Wake::Stopped) return;
        } catch (const Error& e) {
            spdlog::error("{}; status and reload requests are no longer answered", e.what());
            return;
        }
        UniqueFd conn(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) continue;
        try {
            if (readRequest(conn.get()) == ControlRequest::Status) {
                sendAll(conn.get(), runtime::toJson(status_()).dump() + "\n");
            } else if (!reloads_) {
                sendAll(conn.get(), nlohmann::json{{"error", "this host takes no reload requests"}}.dump() + "\n");
            } else if (auto record = reloads_->request()) {
                // Answered only once the reload finished, on the thread that runs every reload.
                sendAll(conn.get(), nlohmann::json{{"reload", runtime::toJson(record->summary())}}.dump() + "\n");
            }  // else the host is stopping: closed without an answer
        } catch (const std::exception& e) {
            sendAll(conn.get(), nlohmann::json{{"error", e.what()}}.dump() + "\n");
        }
    }
}

nlohmann::json queryStatus(const std::filesystem::path& path) {
    UniqueFd fd = connectControl(path);
    if (!fd) throwErrno("control socket '" + printable(path.string()) + "': connect (is fizzhost running with this config?)", errno);
    sendAll(fd.get(), requestLine(ControlRequest::Status));
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
        throw Error("control socket '" + printable(path.string()) + "': unreadable answer: " + e.what(), EPROTO);
    }
}

}  // namespace fizzhost::service
