// Whether a file that chooses what a process runs (the host's config, a plugin module) could have
// been written by someone else. One rule, sshd's StrictModes and sudo's: the file and every folder
// on its real path are owned by root or by the effective user and writable by nobody else; a
// root-owned sticky folder above the file's own folder (such as /tmp) passes, since nobody can
// rename or replace what another user owns inside it. Checked on the descriptor that is read, and
// the folders walked by descriptor, so there is no gap between checking a path and reading it.
#pragma once

#include "util/unique_fd.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost {

/// The rule as one sentence, for messages: what a user reads to know how to fix a refusal.
std::string trustRule();

/// The rule for one file or folder described by `st`: "" when it holds, else the broken part, naming
/// it as `what` and `path`: "config folder '/srv/fizz' is writable by group (mode 0775)".
std::string trustProblem(std::string_view what, const std::filesystem::path& path, const struct stat& st);

/// `dir` and every folder above it, opened one by one from / with O_PATH|O_DIRECTORY|O_NOFOLLOW (no
/// symlink is followed: pass a resolved path) and judged by fstat of the opened folder.
struct FolderCheck {
    UniqueFd dir;                       // `dir` itself, as checked
    std::vector<std::string> problems;  // from `dir` upwards; empty when the chain is trusted
};

/// Whether `dir` itself may be a sticky folder others can write (like /tmp): fine where the caller
/// checks that the file it uses there is its own (nobody else can rename or remove that one).
enum class StickyFolder { Refused, Allowed };

/// Walks `dir` (absolute) up to /. Throws Error with errno when a folder cannot be opened (ELOOP or
/// ENOTDIR when a component is a symlink, ENOENT when it is gone).
FolderCheck checkFolderChain(std::string_view what, const std::filesystem::path& dir,
                             StickyFolder sticky = StickyFolder::Refused);

/// Checks the file `st` describes (fstat of an open descriptor, opened as `path`) and the folders of
/// its real path, and confirms that the real path still names that very file (same device and inode,
/// looked up in the checked folder without following symlinks): a symlink or folder swapped after the
/// open is refused (EAGAIN), never judged in place of the file that is read. Returns the broken
/// rules (empty: trusted), naming the file `whatFile` and its folders `whatFolder`.
std::vector<std::string> checkOpenedFile(std::string_view whatFile, std::string_view whatFolder,
                                         const std::filesystem::path& path, const struct stat& st);

/// An open file and the rules it breaks.
struct CheckedFile {
    UniqueFd fd;  // read this: it is the file that was checked
    struct stat st {};
    std::vector<std::string> problems;
};

/// Opens `path` for reading (symlinks followed; O_NONBLOCK, so a FIFO cannot block the open) and
/// checks it with checkOpenedFile(). Throws Error("<failure>: <errno text>") when it cannot be
/// opened. The caller decides what a problem means (refuse, or warn in insecure mode) and whether the
/// file's type (st) is acceptable.
CheckedFile openChecked(const std::filesystem::path& path, std::string_view whatFile, std::string_view whatFolder,
                        const std::string& failure);

}  // namespace fizzhost
