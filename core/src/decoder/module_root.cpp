#include "decoder/module_root.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

}  // namespace fizzhost::decoder
