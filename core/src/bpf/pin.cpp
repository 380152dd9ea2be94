#include "bpf/pin.hpp"

#include "bpf/link_uapi.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <cstring>

namespace fizzhost::bpf {
namespace fs = std::filesystem;

bool onBpffs(const fs::path& dir) {
    struct statfs st {};
    return ::statfs(dir.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

std::string ensureBpffs(const fs::path& root) {
    if (onBpffs(root)) return "";
    // The nearest folder that exists: pins may only be made below a bpffs mount.
    fs::path existing = root;
    while (!existing.empty() && existing != existing.root_path() && !fs::exists(existing)) existing = existing.parent_path();
    if (onBpffs(existing)) {
        std::error_code ec;
        fs::create_directories(root, ec);
        if (ec) throwErrno("state root '" + root.string() + "': create folder on bpffs", ec.value());
        ::chmod(root.c_str(), 0700);
        return "";
    }
    const fs::path conventional = "/sys/fs/bpf";
    const auto rel = root.lexically_relative(conventional);
    const bool underConventional = !rel.empty() && *rel.begin() != "..";
    const fs::path mountPoint = underConventional ? conventional : root;
    std::error_code ec;
    fs::create_directories(mountPoint, ec);
    if (ec) throwErrno("state root '" + root.string() + "': create mount point '" + mountPoint.string() + "'", ec.value());
    if (::mount("bpf", mountPoint.c_str(), "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") != 0)
        throwErrno("state root '" + root.string() + "' is not on a bpf filesystem and mounting one at '" +
                       mountPoint.string() + "' failed (needs CAP_SYS_ADMIN; or mount it yourself: mount -t bpf bpf " +
                       mountPoint.string() + ")",
                   errno);
    fs::create_directories(root, ec);
    if (ec) throwErrno("state root '" + root.string() + "': create folder on the new bpffs", ec.value());
    ::chmod(root.c_str(), 0700);
    return "mounted a bpf filesystem at '" + mountPoint.string() + "' (none was mounted) for state root '" +
           root.string() + "'";
}

void pinObject(int fd, const fs::path& path) {
    // bpffs refuses names holding a dot (EPERM): they are kept for the kernel's own entries.
    const fs::path tmp = path.string() + "_new";
    ::unlink(tmp.c_str());
    if (bpf_obj_pin(fd, tmp.c_str()) != 0) throwErrno("pin '" + tmp.string() + "'", errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throwErrno("pin: rename '" + tmp.string() + "' to '" + path.string() + "'", err);
    }
}

UniqueFd openPinned(const fs::path& path) {
    UniqueFd fd(bpf_obj_get(path.c_str()));
    if (!fd) throwErrno("open pinned object '" + path.string() + "'", errno);
    return fd;
}

ObjectKind objectKind(int fd) {
    char target[64] = {};
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(self.c_str(), target, sizeof target - 1);
    const std::string_view t(target, n > 0 ? size_t(n) : 0);
    if (t == "anon_inode:bpf-prog") return ObjectKind::Program;
    if (t == "anon_inode:bpf-map") return ObjectKind::Map;
    if (t == "anon_inode:bpf-link") return ObjectKind::Link;
    return ObjectKind::Other;
}

bool unpin(const fs::path& path) {
    if (::unlink(path.c_str()) == 0) return true;
    if (errno == ENOENT) return false;
    throwErrno("unpin '" + path.string() + "'", errno);
}

LinkInfo linkInfo(int linkFd) {
    bpf_link_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(linkFd, &info, &len) != 0) throwErrno("link info", errno);
    LinkInfo out;
    out.id = info.id;
    out.programId = info.prog_id;
    out.type = info.type;
    if (info.type == BPF_LINK_TYPE_XDP || info.type == uapi::kLinkTypeTcx) {
        // Both members start with the ifindex; tcx adds the attach type (bpf/link_uapi.hpp).
        uapi::LinkInfoNetdev netdev;
        std::memcpy(&netdev, &info, sizeof netdev);
        out.netdev = true;
        out.ifindex = netdev.ifindex;
        if (info.type == uapi::kLinkTypeTcx) out.attachType = netdev.attachType;
    }
    return out;
}

void detachLink(int linkFd) {
    if (bpf_link_detach(linkFd) != 0) throwErrno("detach link", errno);
}

MapInfo mapInfo(int mapFd) {
    bpf_map_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(mapFd, &info, &len) != 0) throwErrno("map info", errno);
    return {info.id, info.type, info.key_size, info.value_size, info.max_entries, info.map_flags};
}

UniqueFd programById(uint32_t id) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    if (!fd) throwErrno("open program id " + std::to_string(id), errno);
    return fd;
}

ProgramInfo programInfo(int progFd) {
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(progFd, &info, &len) != 0) throwErrno("program info", errno);
    ProgramInfo out{info.type, info.xlated_prog_len, {}, {}};
    static constexpr char kHex[] = "0123456789abcdef";
    for (uint8_t b : info.tag) {
        out.tag += kHex[b >> 4];
        out.tag += kHex[b & 15];
    }
    // A second call with room for the map ids it said it has (it may have more by then: no).
    std::vector<uint32_t> ids(info.nr_map_ids);
    if (!ids.empty()) {
        bpf_prog_info again{};
        again.nr_map_ids = uint32_t(ids.size());
        again.map_ids = reinterpret_cast<uintptr_t>(ids.data());
        len = sizeof again;
        if (bpf_obj_get_info_by_fd(progFd, &again, &len) != 0) throwErrno("program info (map ids)", errno);
        ids.resize(std::min<size_t>(ids.size(), again.nr_map_ids));
    }
    out.mapIds = std::move(ids);
    return out;
}

UniqueFd mapById(uint32_t id) {
    UniqueFd fd(bpf_map_get_fd_by_id(id));
    if (!fd) throwErrno("open map id " + std::to_string(id), errno);
    return fd;
}

std::string mapName(int mapFd) {
    bpf_map_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(mapFd, &info, &len) != 0) throwErrno("map info", errno);
    return std::string(info.name, strnlen(info.name, sizeof info.name));
}

DirLock::DirLock(const fs::path& dir) {
    fd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd_) throwErrno("lock '" + dir.string() + "': open", errno);
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        fd_.reset();
        throwErrno("lock '" + dir.string() + "'", err);
    }
    // The holder before us may have removed the folder (empty at its exit) between our open and
    // our flock: then we hold a lock on a folder no path names.
    struct stat held {}, named {};
    if (::fstat(fd_.get(), &held) != 0 || ::stat(dir.c_str(), &named) != 0 || held.st_ino != named.st_ino ||
        held.st_dev != named.st_dev) {
        fd_.reset();
        throw Error("lock '" + dir.string() + "': the folder was removed or replaced while it was being locked", ESTALE);
    }
}

bool removeIfEmpty(const fs::path& dir) { return ::rmdir(dir.c_str()) == 0; }

DirLock DirLock::tryLock(const fs::path& dir) {
    try {
        return DirLock(dir);
    } catch (const Error& e) {
        if (e.code() == EWOULDBLOCK) return DirLock();
        throw;
    }
}

}  // namespace fizzhost::bpf
