// Pinning primitives over bpffs: objects pinned by path, opened again by a later process, and the
// facts a successor checks before it trusts what it opened (link, program and map info). Nothing
// here knows what fizzhost pins; runtime/pinned/pin_store.hpp decides that.
#pragma once

#include "util/unique_fd.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace fizzhost::bpf {

/// True when `dir` lies on a bpf filesystem (statfs magic BPF_FS_MAGIC). False when it does not
/// exist or lies elsewhere. Never throws.
bool onBpffs(const std::filesystem::path& dir);

/// Makes `root` a folder on a bpf filesystem, mounting one when none is there: at /sys/fs/bpf when
/// `root` lies under it (the conventional place, where systemd mounts it at boot), else on `root`
/// itself. Returns what it did ("" when nothing was needed) for the log. Throws Error saying why
/// when it cannot (e.g. no CAP_SYS_ADMIN to mount, or `root` on another filesystem).
std::string ensureBpffs(const std::filesystem::path& root);

/// Pins `fd` at `path`, replacing what is pinned there: pinned under a temporary name first, then
/// renamed over the old pin, so a reader finds the old object or the new one, never none. Throws
/// Error naming the path.
void pinObject(int fd, const std::filesystem::path& path);
/// Opens a pinned object. Throws Error naming the path (ENOENT when nothing is pinned there).
UniqueFd openPinned(const std::filesystem::path& path);
/// What a bpf fd (one opened from a pin, say) refers to.
enum class ObjectKind { Program, Map, Link, Other };
/// The kernel names the anonymous inode behind every bpf fd ("anon_inode:bpf-prog", ...). Never
/// throws: Other for anything it cannot tell.
ObjectKind objectKind(int fd);
/// Removes a pin (the object lives on while anything else holds it). Returns false when nothing was
/// pinned there; throws Error for any other failure.
bool unpin(const std::filesystem::path& path);

struct LinkInfo {
    uint32_t id = 0, programId = 0;
    uint32_t type = 0;        // enum bpf_link_type
    bool netdev = false;      // an XDP or a tcx link: ifindex (and, for tcx, attachType) mean something
    uint32_t ifindex = 0;     // XDP and tcx links: 0 once detached (device gone, or BPF_LINK_DETACH by anyone)
    uint32_t attachType = 0;  // tcx links: BPF_TCX_INGRESS / BPF_TCX_EGRESS (bpf/link_uapi.hpp)
};
/// Throws Error.
LinkInfo linkInfo(int linkFd);
/// Detaches a link for every holder at once (BPF_LINK_DETACH). Throws Error.
void detachLink(int linkFd);

struct MapInfo {
    uint32_t id = 0, type = 0, keySize = 0, valueSize = 0, maxEntries = 0, flags = 0;
};
/// Throws Error.
MapInfo mapInfo(int mapFd);

/// An fd of a loaded program by its id. Throws Error (ENOENT when no such program lives).
UniqueFd programById(uint32_t id);
struct ProgramInfo {
    uint32_t type = 0;         // enum bpf_prog_type
    uint32_t xlatedBytes = 0;  // the program as the verifier left it, before the JIT
    std::string tag;           // the kernel's tag (hash of the instructions), 16 hex digits
    std::vector<uint32_t> mapIds;  // the maps it uses
};
/// Throws Error.
ProgramInfo programInfo(int progFd);

/// An fd of a map by its id. Throws Error (ENOENT when no such map lives).
UniqueFd mapById(uint32_t id);
/// The name the map was created with (at most 15 characters). Throws Error.
std::string mapName(int mapFd);

/// Removes `dir` when it is empty; false when it is not (or is gone, or cannot be removed).
bool removeIfEmpty(const std::filesystem::path& dir);

/// An exclusive advisory lock (flock) on a folder, held while the object lives: one fizzhost per
/// state root. Throws Error naming the folder; EWOULDBLOCK when another process holds it, ESTALE
/// when the folder was removed (by the holder before) while it was being locked.
class DirLock {
public:
    explicit DirLock(const std::filesystem::path& dir);
    /// Tries once; an empty (false) lock when another process holds it. Throws for other failures.
    static DirLock tryLock(const std::filesystem::path& dir);
    DirLock() = default;
    explicit operator bool() const { return bool(fd_); }

private:
    UniqueFd fd_;
};

}  // namespace fizzhost::bpf
