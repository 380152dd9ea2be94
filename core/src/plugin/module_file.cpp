#include "plugin/module_file.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fizzhost::plugin {
namespace {

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

const char* typeName(mode_t m) {
    if (S_ISDIR(m)) return "a folder";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISLNK(m)) return "a symbolic link";
    return "not a regular file";
}

}  // namespace

ModuleFile readModuleFile(const std::filesystem::path& file, const FilePolicy& policy) {
    const std::string where = "plugin file " + quoted(file);
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!fd) {
        const int err = errno;
        struct stat lst {};
        if (err == ELOOP && ::lstat(file.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode))
            throw Error(where + " is a symbolic link: plugins must be regular files in the plugin folder "
                                "(copy the module there instead of linking it)",
                        ELOOP);
        throwErrno(where + ": open", err);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throwErrno(where + ": stat", errno);
    if (!S_ISREG(st.st_mode)) throw Error(where + " is " + typeName(st.st_mode) + ", not a regular file", EINVAL);
    checkOwnership(policy, file, st);
    // The folders above the file as the kernel resolves them, not as the path is written.
    std::error_code ec;
    auto realParent = std::filesystem::canonical(std::filesystem::absolute(file).parent_path(), ec);
    if (ec) throwErrno(where + ": resolve its folder", ec.value());
    checkFolder(policy, realParent);
    if (uint64_t(st.st_size) > kMaxModuleBytes)
        throw Error(where + " is " + std::to_string(st.st_size) + " bytes, more than a plugin may be (" +
                        std::to_string(kMaxModuleBytes) + ")",
                    EFBIG);

    ModuleFile m;
    m.path = file;
    m.identity = {uint64_t(st.st_dev), uint64_t(st.st_ino), uint64_t(st.st_size),
                  int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
    m.bytes.resize(size_t(st.st_size));
    size_t got = 0;
    while (got < m.bytes.size()) {
        ssize_t n = ::pread(fd.get(), m.bytes.data() + got, m.bytes.size() - got, off_t(got));
        if (n < 0) {
            if (errno == EINTR) continue;
            throwErrno(where + ": read", errno);
        }
        if (n == 0) break;
        got += size_t(n);
    }
    struct stat after {};
    if (got != m.bytes.size() || ::fstat(fd.get(), &after) != 0 || after.st_size != st.st_size ||
        after.st_mtim.tv_sec != st.st_mtim.tv_sec || after.st_mtim.tv_nsec != st.st_mtim.tv_nsec)
        throw Error(where + " changed while being read (still being written?); try again once it is complete",
                    EAGAIN);
    return m;
}

}  // namespace fizzhost::plugin
