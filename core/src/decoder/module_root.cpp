#include "decoder/module_root.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <system_error>
#include <vector>

namespace fizzhost::decoder {

ModuleRoot::ModuleRoot(const std::filesystem::path& root, std::span<const unsigned char> bytes,
                       const std::string& sha256, const std::string& who) {
    const std::string where = who + ": decoder folder under '" + root.string() + "'";
    std::string pattern = (root / ("m-" + sha256.substr(0, 12) + "-XXXXXX")).string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back(0);
    if (::mkdtemp(buf.data()) == nullptr) throwErrno(where + ": mkdtemp", errno);
    dir_ = buf.data();
    file_ = sha256 + ".so";
    try {
        lock_.reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!lock_ || ::flock(lock_.get(), LOCK_SH) != 0) throwErrno(where + ": lock '" + dir_.string() + "'", errno);
        // mkdtemp makes 0700; the worker's user must be able to reach the module once chrooted.
        if (::chmod(dir_.c_str(), 0755) != 0) throwErrno(where + ": chmod 0755", errno);
        const auto path = dir_ / file_;
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444));
        if (!fd) throwErrno(where + ": create '" + path.string() + "'", errno);
        for (size_t off = 0; off < bytes.size();) {
            const ssize_t w = ::write(fd.get(), bytes.data() + off, bytes.size() - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) throwErrno(where + ": write '" + path.string() + "'", w < 0 ? errno : ENOSPC);
            off += size_t(w);
        }
        if (::fchmod(fd.get(), 0444) != 0) throwErrno(where + ": chmod 0444", errno);
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        throw;
    }
}

ModuleRoot::~ModuleRoot() {
    std::error_code ec;
    std::filesystem::remove(dir_ / file_, ec);
    std::filesystem::remove(dir_, ec);
}

namespace {

// "m-" + 12 lowercase hex + "-" + 6 characters of mkdtemp's.
bool looksOurs(const std::string& name) {
    if (name.size() != 2 + 12 + 1 + 6 || name.compare(0, 2, "m-") != 0 || name[14] != '-') return false;
    for (size_t i = 2; i < 14; ++i)
        if (!std::isxdigit(static_cast<unsigned char>(name[i]))) return false;
    return true;
}

}  // namespace

size_t ModuleRoot::sweepStale(const std::filesystem::path& root) noexcept {
    size_t removed = 0;
    try {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
            const std::string name = entry.path().filename().string();
            if (!looksOurs(name) || !entry.is_directory(ec) || entry.is_symlink(ec)) continue;
            // A folder made a moment ago may not be locked yet (mkdtemp, then flock): left alone.
            const auto age = std::filesystem::file_time_type::clock::now() - entry.last_write_time(ec);
            if (ec || age < std::chrono::minutes(1)) continue;
            UniqueFd fd(::open(entry.path().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            // Held (shared) by the process that made it while it lives: not ours to take.
            if (!fd || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
            std::filesystem::remove_all(entry.path(), ec);
            if (ec)
                spdlog::warn("decoder root: could not remove the stale folder '{}': {}", entry.path().string(),
                             ec.message());
            else
                ++removed;
        }
        if (ec && ec != std::errc::no_such_file_or_directory)
            spdlog::warn("decoder root '{}': cannot list it for stale folders: {}", root.string(), ec.message());
    } catch (const std::exception& e) {
        spdlog::warn("decoder root '{}': sweeping stale folders: {}", root.string(), e.what());
    }
    return removed;
}

}  // namespace fizzhost::decoder
