// The real fizzhost binary as a child process, and a temporary folder, both cleaned up on scope exit.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::test {

/// A private folder under /tmp (mode 0700), removed with its contents on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

class DaemonProcess {
public:
    /// Starts argv[0] with argv, inside network namespace `netns` when not empty; stdout and stderr
    /// go to files in `dir`.
    DaemonProcess(const std::vector<std::string>& argv, const std::filesystem::path& dir, const std::string& netns = "");
    ~DaemonProcess();  // SIGKILL and reap if still running
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    void signal(int sig);
    /// Waits until stderr holds `needle` at least `occurrences` times.
    bool waitForStderr(std::string_view needle, std::chrono::milliseconds timeout, size_t occurrences = 1);
    /// Waits for exit; returns the exit status (128+signal when killed) or nullopt on timeout.
    std::optional<int> waitExit(std::chrono::milliseconds timeout);
    std::string stdoutText() const;
    std::string stderrText() const;
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path out_, err_;
};

size_t countOccurrences(std::string_view text, std::string_view needle);

}  // namespace fizzhost::test
