#include "service/config_watch.hpp"

#include "util/error.hpp"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace fizzhost::service {
namespace {

// Create and delete cover `ln -sf`; moved-to covers rename(2) over the file and the kubelet's
// `..data` swap; close-write covers writing in place (and not the half-written file a modify
// event would show).
constexpr uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB;

}  // namespace

ConfigWatch::ConfigWatch(std::filesystem::path config)
    : config_(std::filesystem::absolute(std::move(config)).lexically_normal()),
      fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (!fd_) throwErrno("config watch: inotify_init1", errno);
    const auto folder = config_.parent_path();
    if (inotify_add_watch(fd_.get(), folder.c_str(), kEvents) < 0)
        throwErrno("config watch: watch folder '" + folder.string() + "'", errno);
    watchFolders();
    content_ = read();
    spdlog::info("watching {} for changes (reloads when its content changes)", config_.string());
}

// The folder the file really lives in (through every symlink) changes when `..data` is re-pointed:
// follow it, so an edit made inside the target folder is seen too.
void ConfigWatch::watchFolders() {
    std::error_code ec;
    auto real = std::filesystem::canonical(config_, ec).parent_path();
    if (ec || real == config_.parent_path() || real == realFolder_) return;
    if (realWatch_ >= 0) inotify_rm_watch(fd_.get(), realWatch_);  // may be gone with its folder already
    realWatch_ = inotify_add_watch(fd_.get(), real.c_str(), kEvents);
    realFolder_ = realWatch_ >= 0 ? real : std::filesystem::path();
}

std::optional<std::string> ConfigWatch::read() const {
    std::ifstream in(config_, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream os;
    os << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return os.str();
}

bool ConfigWatch::changed() {
    alignas(inotify_event) char buffer[16 * 1024];
    bool any = false;
    for (;;) {
        ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) throwErrno("config watch: read inotify events", n < 0 ? errno : EIO);
        any = true;
    }
    if (!any) return false;
    watchFolders();
    auto now = read();
    if (!now || now == content_) return false;
    content_ = std::move(now);
    return true;
}

void ConfigWatch::rebase() {
    watchFolders();
    content_ = read();
}

}  // namespace fizzhost::service
