#include "support/daemon_process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fizzhost::test {
namespace {

std::string readFile(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

size_t countOccurrences(std::string_view text, std::string_view needle) {
    size_t n = 0;
    for (size_t pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + 1)) ++n;
    return n;
}

TempDir::TempDir() {
    char tmpl[] = "/tmp/fizzhost-test-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

DaemonProcess::DaemonProcess(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                             const std::string& netns)
    : out_(dir / "daemon.stdout"), err_(dir / "daemon.stderr") {
    int nsFd = -1;
    if (!netns.empty()) {
        nsFd = open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
        if (nsFd < 0) throw std::runtime_error("open netns " + netns + ": " + std::strerror(errno));
    }
    int outFd = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int errFd = open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_ = fork();
    if (pid_ == 0) {
        if (nsFd >= 0 && setns(nsFd, CLONE_NEWNET) != 0) _exit(126);
        dup2(outFd, 1);
        dup2(errFd, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    if (nsFd >= 0) close(nsFd);
    close(outFd);
    close(errFd);
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
}

DaemonProcess::~DaemonProcess() {
    if (!status_ && pid_ > 0) {
        kill(pid_, SIGKILL);
        int st;
        waitpid(pid_, &st, 0);
    }
}

void DaemonProcess::signal(int sig) {
    if (!status_) kill(pid_, sig);
}

bool DaemonProcess::waitForStderr(std::string_view needle, std::chrono::milliseconds timeout, size_t occurrences) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (countOccurrences(stderrText(), needle) >= occurrences) return true;
        if (waitExit(std::chrono::milliseconds(0))) return countOccurrences(stderrText(), needle) >= occurrences;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

std::optional<int> DaemonProcess::waitExit(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return status_;
        }
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

std::string DaemonProcess::stdoutText() const { return readFile(out_); }
std::string DaemonProcess::stderrText() const { return readFile(err_); }

}  // namespace fizzhost::test
