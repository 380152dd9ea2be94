// The events file, opened and reopened by a root process without ever being led by a path.
//
// The host appends to the events file for as long as it runs and opens it again after log
// rotation. Opening it by path each time would let anyone who can change that path choose what
// root writes to: a symlink put in its place (O_CREAT follows it, even to a missing file), a hard
// link to a root-only file, a FIFO that blocks the open. So:
// - the folder is checked once, at start, by util/file_trust's rule (root's, writable by nobody
//   else, no folder above it open to renames by others; a sticky folder like /tmp passes, since
//   there nobody can rename or remove a file they do not own) and held open: every later open is
//   an openat() in that very folder, whatever is renamed on the way to it;
// - the name is opened with O_NOFOLLOW (a symlink is refused, never followed), O_NONBLOCK (a FIFO
//   cannot block the open) and without O_CREAT; a missing file is created with O_EXCL at mode
//   0600, given its group, then its configured mode, so nobody else can open it on the way;
// - what was opened is judged by fstat of the descriptor: a regular file with one link, a FIFO or
//   a character device (/dev/null), owned by root (or by the user running the host). Anything
//   else (a folder, a socket, a block device, a file another user made in a sticky folder, a
//   second name of another file) is refused and closed before a byte is written.
#pragma once

#include "util/unique_fd.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace fizzhost {

/// How a missing output file is created.
struct OutputFileMode {
    mode_t mode = 0640;  // exactly this, whatever the umask
    std::string group;   // a group name, given to the file at creation; empty: the process's group
};

enum class OutputKind { Regular, Fifo, Device };

/// The outcome of one open: a descriptor to append to, or why there is none.
struct OutputOpen {
    UniqueFd fd;
    struct stat st {};  // of fd
    OutputKind kind = OutputKind::Regular;
    bool created = false;
    int err = 0;           // without fd: the errno (ENXIO: a FIFO nobody reads yet)
    bool refused = false;  // without fd: the path holds something the host never writes to
    std::string reason;    // without fd: what and why, for the log
    std::string note;      // with fd: worth a warning (an existing file more open than the mode asks)
};

/// One output path: its folder checked and held, the name opened in it on demand. Not thread-safe:
/// one thread opens (the writer's).
class OutputFile {
public:
    /// `path` is absolute and names a file in an existing folder whose path holds no symbolic link.
    /// Checks that folder and every one above it, holds it open, and resolves the group. Throws
    /// Error saying what is wrong and how to fix it.
    OutputFile(std::filesystem::path path, OutputFileMode mode);

    /// Opens the name in the held folder for appending, creating a missing regular file. Never
    /// follows a symlink, never blocks. Never throws but for bad_alloc.
    OutputOpen open() const;

    enum class Name { Same, Gone, Other };
    /// Whether the name in the held folder still names the file `held` describes (lstat, no
    /// symlink followed: a symlink at the name is Other).
    Name compare(const struct stat& held) const noexcept;

    /// What the host will do with the path, for `fizzhost check`, without opening or creating
    /// anything ("a FIFO: written without blocking; ..."). Throws Error when the host would refuse it.
    std::string plan() const;

    const std::filesystem::path& path() const { return path_; }

    /// A FIFO's pipe is grown to this (best effort: /proc/sys/fs/pipe-max-size bounds it), so a
    /// burst waits there instead of being counted lost.
    static constexpr int kFifoBuffer = 1 << 20;

private:
    std::string named() const;
    std::optional<std::string> folderProblem() const;
    std::optional<std::string> refusal(const struct stat& st) const;
    std::string symlinkRefusal() const;

    std::filesystem::path path_;
    std::string name_;  // the file name in the folder
    UniqueFd dir_;      // O_PATH of the folder, checked at construction
    OutputFileMode mode_;
    std::optional<gid_t> gid_;
};

/// "0640".
std::string octalMode(mode_t mode);

}  // namespace fizzhost
