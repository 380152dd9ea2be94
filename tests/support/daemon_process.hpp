// A program (usually the real fizzhost binary) as a child process, and a temporary folder, both
// cleaned up on scope exit whatever the test did.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::test {

/// A private folder /tmp/fizzhost-test-<pid>-XXXXXX (mode 0700), removed with its contents on
/// destruction. Throws std::runtime_error when it cannot be made.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    /// Removes the folders of test processes that are gone (killed runs skip destructors).
    /// Returns how many it removed.
    static size_t sweepStale();

private:
    std::filesystem::path path_;
};

class DaemonProcess {
public:
    /// Starts argv[0] (PATH lookup) with argv. With `netns`, the child enters that namespace
    /// (setns) before exec. stdout and stderr go to files in `dir`, or in a TempDir of its own
    /// when `dir` is empty; stdin is /dev/null. The child is SIGKILLed if the thread that created
    /// it dies, so a crashed test run leaves no daemon behind. Throws std::runtime_error when the
    /// process cannot be created; a failing setns or exec shows as exit status 126/127 with the
    /// reason in stderrText().
    explicit DaemonProcess(const std::vector<std::string>& argv, const std::filesystem::path& dir = {},
                           const std::string& netns = "");
    ~DaemonProcess();  // SIGKILL and reap if still running
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    /// Sends `sig`, unless the process was already reaped (its pid may belong to another by now).
    void signal(int sig);
    /// Polls until stdout (stderr) holds `needle` at least `occurrences` times; false on timeout,
    /// or as soon as the process exited without writing it.
    bool waitForStdout(std::string_view needle, std::chrono::milliseconds timeout, size_t occurrences = 1);
    bool waitForStderr(std::string_view needle, std::chrono::milliseconds timeout, size_t occurrences = 1);
    /// Waits for exit; returns the exit status (128+signal when killed) or nullopt on timeout.
    std::optional<int> waitExit(std::chrono::milliseconds timeout);
    std::string stdoutText() const;
    std::string stderrText() const;
    const std::filesystem::path& stdoutPath() const { return out_; }
    const std::filesystem::path& stderrPath() const { return err_; }
    pid_t pid() const { return pid_; }

private:
    bool waitFor(const std::filesystem::path& file, std::string_view needle, std::chrono::milliseconds timeout,
                 size_t occurrences);

    std::optional<TempDir> ownDir_;
    std::filesystem::path out_, err_;
    pid_t pid_ = -1;
    std::optional<int> status_;
};

/// In a child just forked to run a command (async-signal-safe calls only): every signal unblocked,
/// fd 0 `devNull` (left alone when negative), 1 `out`, 2 `err`.
void childStdio(int devNull, int out, int err) noexcept;

/// True while process `pid` exists and is not a zombie (a killed run that nobody reaped yet is
/// gone for our purposes). Used to tell stale test objects from those of a live run.
bool processAlive(long pid);

/// Occurrences of `needle` in `text`, overlapping ones included.
size_t countOccurrences(std::string_view text, std::string_view needle);

}  // namespace fizzhost::test
