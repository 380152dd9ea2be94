#include "util/file_trust.hpp"

#include "util/error.hpp"
#include "util/text.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

namespace fizzhost {
namespace {

std::string named(std::string_view what, const std::filesystem::path& path) {
    return std::string(what) + " '" + printable(path.string()) + "'";
}

UniqueFd openFolder(int at, const char* name, std::string_view what, const std::filesystem::path& path) {
    UniqueFd fd(::openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throwErrno(named(what, path), errno);
    return fd;
}

}  // namespace

std::string trustRule() {
    return ::geteuid() == 0
               ? "the rule: a file that chooses what runs as root, and every folder above it, must be owned by root "
                 "and writable by nobody else (chown root, chmod go-w)"
               : "the rule: a file that chooses what runs, and every folder above it, must be owned by root or uid " +
                     std::to_string(::geteuid()) + " and writable by nobody else (chown, chmod go-w)";
}

std::string trustProblem(std::string_view what, const std::filesystem::path& path, const struct stat& st) {
    const uid_t me = ::geteuid();
    if (st.st_uid != 0 && st.st_uid != me)
        return named(what, path) + " is owned by uid " + std::to_string(st.st_uid) + ", not root" +
               (me == 0 ? "" : " or uid " + std::to_string(me));
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
        return named(what, path) + " is writable by " + ((st.st_mode & S_IWOTH) ? "others" : "group") + " (mode " + mode + ")";
    }
    return {};
}

FolderCheck checkFolderChain(std::string_view what, const std::filesystem::path& dir, StickyFolder sticky) {
    if (!dir.is_absolute()) throw Error(named(what, dir) + ": not an absolute path", EINVAL);
    struct Step {
        std::filesystem::path path;
        struct stat st;
    };
    std::vector<Step> chain;
    std::filesystem::path at = dir.root_path();
    UniqueFd fd = openFolder(AT_FDCWD, at.c_str(), what, at);
    auto record = [&] {
        Step step{at, {}};
        if (::fstat(fd.get(), &step.st) != 0) throwErrno(named(what, at), errno);
        chain.push_back(step);
    };
    record();
    for (const auto& part : dir.relative_path()) {
        if (part.empty() || part == ".") continue;
        // A resolved path has no "..": refusing it keeps the walk on the path that is named.
        if (part == "..") throw Error(named(what, dir) + ": not a resolved path ('..')", EINVAL);
        at /= part;
        fd = openFolder(fd.get(), part.c_str(), what, at);
        record();
    }

    FolderCheck out{std::move(fd), {}};
    for (size_t i = chain.size(); i-- > 0;) {
        const bool self = i + 1 == chain.size();
        const auto& st = chain[i].st;
        const bool stickyRootParent = !self && (st.st_mode & S_ISVTX) && st.st_uid == 0;
        if (stickyRootParent) continue;
        const bool stickyOwnFolder = self && sticky == StickyFolder::Allowed && (st.st_mode & S_ISVTX) &&
                                     (st.st_uid == 0 || st.st_uid == ::geteuid());
        if (stickyOwnFolder) continue;
        if (auto p = trustProblem(what, chain[i].path, st); !p.empty()) out.problems.push_back(std::move(p));
    }
    return out;
}

std::vector<std::string> checkOpenedFile(std::string_view whatFile, std::string_view whatFolder,
                                         const std::filesystem::path& path, const struct stat& st) {
    std::error_code ec;
    const auto real = std::filesystem::canonical(std::filesystem::absolute(path), ec);
    if (ec) throwErrno(named(whatFile, path) + ": resolve its real path", ec.value());
    FolderCheck folders = checkFolderChain(whatFolder, real.parent_path());

    // The name in the checked folder must be the opened file: otherwise something on the path
    // changed between the open and now, and the folders judged are not the ones it sits in.
    struct stat there {};
    if (::fstatat(folders.dir.get(), real.filename().c_str(), &there, AT_SYMLINK_NOFOLLOW) != 0 ||
        there.st_dev != st.st_dev || there.st_ino != st.st_ino)
        throw Error(named(whatFile, path) + " changed while being checked (its path now leads to '" + printable(real.string()) +
                        "', another file); try again",
                    EAGAIN);

    std::vector<std::string> problems;
    // Judged where it really is, and named so: a symlink from a safe place does not make it safe.
    if (auto p = trustProblem(whatFile, real, st); !p.empty()) problems.push_back(std::move(p));
    for (auto& p : folders.problems) problems.push_back(std::move(p));
    return problems;
}

CheckedFile openChecked(const std::filesystem::path& path, std::string_view whatFile, std::string_view whatFolder,
                        const std::string& failure) {
    CheckedFile f;
    f.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!f.fd) throwErrno(failure, errno);
    if (::fstat(f.fd.get(), &f.st) != 0) throwErrno(failure, errno);
    f.problems = checkOpenedFile(whatFile, whatFolder, path, f.st);
    return f;
}

}  // namespace fizzhost
