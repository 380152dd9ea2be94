#include "support/daemon_process.hpp"

#include "util/unique_fd.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fizzhost::test {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr const char* kTempPrefix = "/tmp/fizzhost-test-";

std::atomic<unsigned> nextLogId{0};

std::string readFile(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// For the child between fork and exec: only async-signal-safe calls, no allocation.
void reportChildFailure(const char* what, int err) {
    char digits[12];
    int n = 0;
    do digits[n++] = char('0' + err % 10);
    while ((err /= 10) != 0 && n < 11);
    (void)!write(2, what, std::strlen(what));
    (void)!write(2, " (errno ", 8);
    while (n > 0) (void)!write(2, &digits[--n], 1);
    (void)!write(2, ")\n", 2);
}

}  // namespace

bool processAlive(long pid) {
    if (pid <= 0 || pid > 0x7fffffff) return false;
    if (kill(pid_t(pid), 0) != 0 && errno != EPERM) return false;
    // "pid (comm) S ...": the state follows the last ')' (comm may contain anything).
    const std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
    const size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) return true;  // no /proc: trust kill()
    const char state = stat[close + 2];
    return state != 'Z' && state != 'X';
}

size_t countOccurrences(std::string_view text, std::string_view needle) {
    if (needle.empty()) return 0;
    size_t n = 0;
    for (size_t pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + 1)) ++n;
    return n;
}

TempDir::TempDir() {
    // The pid in the name lets sweepStale() tell a killed run's folder from a live one's.
    std::string tmpl = std::string(kTempPrefix) + std::to_string(getpid()) + "-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
    path_ = tmpl;
}

size_t TempDir::sweepStale() {
    const std::string prefix = std::filesystem::path(kTempPrefix).filename().string();
    size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(kTempPrefix).parent_path(), ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(prefix, 0) != 0) continue;
        const std::string rest = name.substr(prefix.size());
        const size_t dash = rest.find('-');
        if (dash == 0 || dash == std::string::npos || rest.find_first_not_of("0123456789") != dash) continue;
        if (processAlive(std::stol(rest.substr(0, dash)))) continue;
        std::error_code removeError;
        if (std::filesystem::remove_all(entry.path(), removeError) > 0) ++removed;
    }
    return removed;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

void childStdio(int devNull, int out, int err) noexcept {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (devNull >= 0) dup2(devNull, 0);
    dup2(out, 1);
    dup2(err, 2);
}

DaemonProcess::DaemonProcess(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                             const std::string& netns) {
    if (argv.empty()) throw std::invalid_argument("DaemonProcess: empty argv");
    if (dir.empty()) ownDir_.emplace();
    const auto& logDir = dir.empty() ? ownDir_->path() : dir;
    // Unique names, so two processes sharing a folder never truncate each other's logs.
    const std::string stem = std::filesystem::path(argv[0]).filename().string() + "-" + std::to_string(nextLogId++);
    out_ = logDir / (stem + ".stdout");
    err_ = logDir / (stem + ".stderr");

    UniqueFd nsFd;
    if (!netns.empty()) {
        nsFd.reset(open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC));
        if (!nsFd) throw std::runtime_error("open network namespace " + netns + ": " + std::strerror(errno));
    }
    UniqueFd outFd(open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    UniqueFd errFd(open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    UniqueFd devNull(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!outFd || !errFd) throw std::runtime_error("create " + out_.string() + ": " + std::strerror(errno));

    // Prepared before fork: the child of a threaded process must not allocate.
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const std::string setnsFailed = "fizzhost-test: setns into network namespace " + netns + " failed";
    const std::string execFailed = "fizzhost-test: cannot execute " + argv[0];
    const pid_t parent = getpid();

    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
        // A test binary killed mid-run must not leave a daemon holding XDP programs and namespaces.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(125);  // the parent died before the line above
        childStdio(devNull.get(), outFd.get(), errFd.get());
        if (nsFd && setns(nsFd.get(), CLONE_NEWNET) != 0) {
            reportChildFailure(setnsFailed.c_str(), errno);
            _exit(126);
        }
        execvp(args[0], args.data());
        reportChildFailure(execFailed.c_str(), errno);
        _exit(127);
    }
}

DaemonProcess::~DaemonProcess() {
    if (status_ || pid_ <= 0) return;
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
}

void DaemonProcess::signal(int sig) {
    if (!status_) kill(pid_, sig);
}

bool DaemonProcess::waitFor(const std::filesystem::path& file, std::string_view needle,
                            std::chrono::milliseconds timeout, size_t occurrences) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (countOccurrences(readFile(file), needle) >= occurrences) return true;
        // Exited: its output is complete, so one last look decides.
        if (waitExit(std::chrono::milliseconds(0))) return countOccurrences(readFile(file), needle) >= occurrences;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(kPollInterval);
    }
}

bool DaemonProcess::waitForStdout(std::string_view needle, std::chrono::milliseconds timeout, size_t occurrences) {
    return waitFor(out_, needle, timeout, occurrences);
}

bool DaemonProcess::waitForStderr(std::string_view needle, std::chrono::milliseconds timeout, size_t occurrences) {
    return waitFor(err_, needle, timeout, occurrences);
}

std::optional<int> DaemonProcess::waitExit(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int st = 0;
        const pid_t r = waitpid(pid_, &st, WNOHANG);
        if (r == pid_) {
            status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            return status_;
        }
        if (r < 0 && errno != EINTR) throw std::runtime_error("waitpid " + std::to_string(pid_) + ": " + std::strerror(errno));
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(kPollInterval);
    }
}

std::string DaemonProcess::stdoutText() const { return readFile(out_); }
std::string DaemonProcess::stderrText() const { return readFile(err_); }

}  // namespace fizzhost::test
