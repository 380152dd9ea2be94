#include "util/output_file.hpp"

#include "util/error.hpp"
#include "util/file_trust.hpp"
#include "util/text.hpp"

#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace fizzhost {
namespace {

constexpr int kOpenFlags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;

bool trustedOwner(uid_t uid) { return uid == 0 || uid == ::geteuid(); }

gid_t groupId(const std::string& group) {
    struct group entry {}, *found = nullptr;
    std::vector<char> buf(16 * 1024);
    int rc;
    while ((rc = ::getgrnam_r(group.c_str(), &entry, buf.data(), buf.size(), &found)) == ERANGE && buf.size() < (1u << 20))
        buf.resize(buf.size() * 4);
    if (rc != 0) throwErrno("[output] events_group '" + printable(group) + "': look up the group", rc);
    if (!found) throw Error("[output] events_group '" + printable(group) + "': no such group (getent group lists them)", ENOENT);
    return entry.gr_gid;
}

}  // namespace

std::string octalMode(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", unsigned(mode & 07777));
    return buf;
}

OutputFile::OutputFile(std::filesystem::path path, OutputFileMode mode) : path_(std::move(path)), mode_(std::move(mode)) {
    const std::string what = named();
    if (!path_.is_absolute()) throw Error(what + ": not an absolute path", EINVAL);
    name_ = path_.filename().string();
    if (name_.empty() || name_ == "." || name_ == "..")
        throw Error(what + ": names no file (it ends in '/', '.' or '..'); name the file fizzhost appends to", EINVAL);
    const auto dir = path_.parent_path();
    FolderCheck folder;
    try {
        folder = checkFolderChain("events folder", dir, StickyFolder::Allowed);
    } catch (const Error& e) {
        if (e.code() == ELOOP || e.code() == ENOTDIR) {
            std::error_code ec;
            const auto real = std::filesystem::canonical(dir, ec);
            throw Error(what + ": its folder '" + printable(dir.string()) +
                            "' is reached through a symbolic link (or is not a folder): the events file is opened "
                            "only in a folder named by its real path" +
                            (ec ? std::string() : ", here '" + printable(real.string()) + "'"),
                        e.code());
        }
        throw Error(what + ": its folder '" + printable(dir.string()) +
                        "' cannot be used (fizzhost creates the file, not its folder): " + e.what(),
                    e.code());
    }
    if (!folder.problems.empty())
        throw Error(what + ": " + folder.problems.front() +
                        ": another user could put a link or a file of theirs at the events path and choose what "
                        "root writes to; make it root's and writable by nobody else (chown root, chmod go-w; a "
                        "sticky folder like /tmp is fine), or choose another folder",
                    EPERM);
    dir_ = std::move(folder.dir);
    if (!mode_.group.empty()) gid_ = groupId(mode_.group);
}

std::string OutputFile::named() const { return "[output] events '" + printable(path_.string()) + "'"; }

// The folder was checked at start and is held; still, a chmod since then is not ignored.
std::optional<std::string> OutputFile::folderProblem() const {
    struct stat st {};
    if (::fstat(dir_.get(), &st) != 0) return named() + ": its folder: " + errnoText(errno);
    const bool sticky = (st.st_mode & S_ISVTX) && trustedOwner(st.st_uid);
    if (sticky) return std::nullopt;
    auto p = trustProblem("events folder", path_.parent_path(), st);
    if (p.empty()) return std::nullopt;
    return named() + ": " + p + " (it changed since the start): not opened there";
}

std::string OutputFile::symlinkRefusal() const {
    return named() + " is a symbolic link: never followed for the events file (whoever can change it would choose "
                     "what root writes to); name the file itself";
}

std::optional<std::string> OutputFile::refusal(const struct stat& st) const {
    const std::string what = named();
    if (S_ISLNK(st.st_mode)) return symlinkRefusal();
    if (S_ISDIR(st.st_mode)) return what + " is a folder; name a file (fizzhost appends to it)";
    if (S_ISSOCK(st.st_mode)) return what + " is a socket, which cannot be opened as a file";
    if (S_ISBLK(st.st_mode)) return what + " is a block device: events are never written over a disk";
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
        return what + " is neither a regular file, a FIFO nor a character device";
    if (!trustedOwner(st.st_uid))
        return what + " is owned by uid " + std::to_string(st.st_uid) +
               ", not root: a file another user made (anyone may add one to a sticky folder) is never written to; "
               "remove it and fizzhost creates its own";
    if (S_ISREG(st.st_mode) && st.st_nlink > 1)
        return what + " has " + std::to_string(st.st_nlink) +
               " hard links: another name of the same file may be one root must never write to; remove this name "
               "and fizzhost creates its own file";
    return std::nullopt;
}

OutputOpen OutputFile::open() const {
    OutputOpen out;
    auto fail = [&](int err, bool refused, std::string reason) {
        out.fd.reset();
        out.err = err;
        out.refused = refused;
        out.reason = std::move(reason);
        return std::move(out);
    };
    if (auto p = folderProblem()) return fail(EPERM, true, *p);
    // The name may change between our calls (created, replaced): judge what is there each time round.
    for (int attempt = 0; attempt < 3 && !out.fd; ++attempt) {
        out.fd.reset(::openat(dir_.get(), name_.c_str(), kOpenFlags));
        if (out.fd) break;
        const int err = errno;
        if (err == ENOENT) {
            // Owner-only until its group and mode are set: nobody else can open it on the way.
            out.fd.reset(::openat(dir_.get(), name_.c_str(), kOpenFlags | O_CREAT | O_EXCL, 0600));
            if (out.fd) {
                out.created = true;
                break;
            }
            if (errno == EEXIST) continue;
            return fail(errno, false, named() + ": create: " + errnoText(errno));
        }
        struct stat st {};
        const bool there = ::fstatat(dir_.get(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (err == ELOOP) return fail(ELOOP, true, symlinkRefusal());  // O_NOFOLLOW met a symlink at the name
        if (there) {
            if (auto r = refusal(st)) return fail(S_ISDIR(st.st_mode) ? EISDIR : err == ENXIO ? EPERM : err, true, *r);
            if (err == ENXIO && S_ISFIFO(st.st_mode)) {
                out.kind = OutputKind::Fifo;
                return fail(ENXIO, false, named() + " is a FIFO nobody reads yet");
            }
        }
        return fail(err, false, named() + ": open for append: " + errnoText(err));
    }
    if (!out.fd) return fail(EAGAIN, false, named() + ": the name kept changing while it was opened");
    const int fd = out.fd.get();
    if (::fstat(fd, &out.st) != 0) return fail(errno, false, named() + ": fstat: " + errnoText(errno));
    if (auto r = refusal(out.st)) return fail(EPERM, true, *r);
    out.kind = S_ISFIFO(out.st.st_mode) ? OutputKind::Fifo : S_ISCHR(out.st.st_mode) ? OutputKind::Device : OutputKind::Regular;
    if (out.created) {
        if (gid_ && ::fchown(fd, uid_t(-1), *gid_) != 0)
            return fail(errno, false, named() + ": created, but giving it group '" + printable(mode_.group) +
                                          "' failed: " + errnoText(errno));
        if (::fchmod(fd, mode_.mode) != 0)
            return fail(errno, false, named() + ": created, but setting its mode " + octalMode(mode_.mode) +
                                          " failed: " + errnoText(errno));
        ::fstat(fd, &out.st);
    } else if (out.kind == OutputKind::Regular && (out.st.st_mode & 0777 & ~mode_.mode)) {
        out.note = named() + " exists with mode " + octalMode(out.st.st_mode) + ", more open than events_mode " +
                   octalMode(mode_.mode) + ": left as it is (chmod it, or remove it and fizzhost creates it)";
    }
    if (out.kind == OutputKind::Fifo) {
        // Writes stay non-blocking: a reader that stalls costs counted events, never the pump.
        ::fcntl(fd, F_SETPIPE_SZ, kFifoBuffer);
    } else {
        // A file or a device is written as before the open became non-blocking.
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    }
    return out;
}

OutputFile::Name OutputFile::compare(const struct stat& held) const noexcept {
    struct stat st {};
    if (::fstatat(dir_.get(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? Name::Gone : Name::Same;
    return st.st_dev == held.st_dev && st.st_ino == held.st_ino ? Name::Same : Name::Other;
}

std::string OutputFile::plan() const {
    if (auto p = folderProblem()) throw Error(*p, EPERM);
    struct stat st {};
    if (::fstatat(dir_.get(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) throwErrno(named(), errno);
        return "does not exist: created at start as a regular file of mode " + octalMode(mode_.mode) +
               (mode_.group.empty() ? std::string() : ", group '" + printable(mode_.group) + "'") + ", then appended to";
    }
    if (auto r = refusal(st)) throw Error(*r, S_ISDIR(st.st_mode) ? EISDIR : S_ISLNK(st.st_mode) ? ELOOP : EPERM);
    if (S_ISFIFO(st.st_mode))
        return "a FIFO: written without blocking, and opened without waiting for a reader. While nobody reads "
               "it (at start, or after its reader went away) events are counted lost and the open is tried again "
               "every second; while its reader does not keep up, a batch waits for room at most the write timeout, "
               "then its events are counted lost";
    if (S_ISCHR(st.st_mode)) return "a character device: written to as it is";
    if (::faccessat(dir_.get(), name_.c_str(), W_OK, AT_EACCESS) != 0) throwErrno(named() + ": not writable", errno);
    std::string plan = "a regular file (uid " + std::to_string(st.st_uid) + ", gid " + std::to_string(st.st_gid) +
                       ", mode " + octalMode(st.st_mode) + "): appended to";
    if (st.st_mode & 0777 & ~mode_.mode)
        plan += "; it is more open than events_mode " + octalMode(mode_.mode) +
                ", which applies only to a file fizzhost creates (chmod it, or remove it)";
    return plan;
}

}  // namespace fizzhost
