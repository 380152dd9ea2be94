#include "support/netns.hpp"

#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fizzhost::test {
namespace {

std::atomic<int> counter{0};

std::string uniqueName(const char* kind) {
    // fzt<kind><pid>-<n>: the pid tells the sweep whose it is (interface names, which must fit in
    // IFNAMSIZ, live inside the namespaces and go with them).
    const int pid = std::string(kind) == "ns" ? getpid() : getpid() % 100000;
    return std::string("fzt") + kind + std::to_string(pid) + "-" + std::to_string(counter++);
}

}  // namespace

CommandResult run(const std::vector<std::string>& argv) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(pipefd[1]);
    CommandResult r;
    char buf[4096];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof buf)) > 0) r.output.append(buf, size_t(n));
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

std::string runChecked(const std::vector<std::string>& argv) {
    auto r = run(argv);
    if (r.status != 0) {
        std::string cmd;
        for (const auto& a : argv) cmd += a + " ";
        throw std::runtime_error("command failed (" + std::to_string(r.status) + "): " + cmd + "\n" + r.output);
    }
    return r.output;
}

NetNs::NetNs() : name_(uniqueName("ns")) {
    runChecked({"ip", "netns", "add", name_});
    try {
        runChecked({"ip", "-n", name_, "link", "set", "lo", "up"});
        runChecked({"ip", "netns", "exec", name_, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"});
        runChecked({"ip", "netns", "exec", name_, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"});
    } catch (...) {
        run({"ip", "netns", "del", name_});
        throw;
    }
}

NetNs::~NetNs() { run({"ip", "netns", "del", name_}); }

void NetNs::sweepStale() {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/var/run/netns", ec)) {
        const std::string n = e.path().filename().string();
        if (n.rfind("fztns", 0) != 0) continue;
        const int pid = std::atoi(n.c_str() + 5);
        if (pid == getpid() || (pid > 0 && kill(pid, 0) == 0)) continue;  // its owner still runs
        run({"ip", "netns", "del", n});
    }
}

ScopedNetns::ScopedNetns(const NetNs& ns) {
    previous_.reset(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    UniqueFd target(open(("/var/run/netns/" + ns.name()).c_str(), O_RDONLY | O_CLOEXEC));
    if (!previous_ || !target || setns(target.get(), CLONE_NEWNET) != 0)
        throw std::runtime_error("enter network namespace " + ns.name() + ": " + std::strerror(errno));
}

ScopedNetns::~ScopedNetns() {
    if (previous_) setns(previous_.get(), CLONE_NEWNET);
}

VethPair::VethPair(const NetNs& a, const NetNs& b)
    : nsA_(a.name()), nameA_(uniqueName("a")), nameB_(uniqueName("b")) {
    runChecked({"ip", "-n", a.name(), "link", "add", nameA_, "type", "veth", "peer", "name", nameB_, "netns", b.name()});
    runChecked({"ip", "-n", a.name(), "link", "set", nameA_, "up"});
    runChecked({"ip", "-n", b.name(), "link", "set", nameB_, "up"});
    // A real queue on the sending side: with it, a full veth ring pushes back on the sender
    // instead of dropping frames, so "frames sent" is "frames the other end saw".
    for (const auto& [ns, dev] : {std::pair{a.name(), nameA_}, std::pair{b.name(), nameB_}})
        runChecked({"ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", dev, "root", "pfifo", "limit", "100000"});
}

VethPair::~VethPair() { run({"ip", "-n", nsA_, "link", "del", nameA_}); }

RawSender::RawSender(const NetNs& ns, const std::string& ifname) {
    ScopedNetns in(ns);
    fd_.reset(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
    if (!fd_) throw std::runtime_error(std::string("AF_PACKET socket: ") + std::strerror(errno));
    ifindex_ = int(if_nametoindex(ifname.c_str()));
    if (ifindex_ == 0) throw std::runtime_error("no interface " + ifname + " in " + ns.name());
}

size_t RawSender::sendBatch(const std::vector<std::vector<uint8_t>>& frames) {
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = ifindex_;
    to.sll_halen = ETH_ALEN;
    size_t sent = 0;
    for (const auto& f : frames) {
        while (sendto(fd_.get(), f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
            if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
                throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        // Pace bursts so the receiving veth's NAPI ring never overflows.
        if (++sent % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(30));
    }
    return sent;
}

}  // namespace fizzhost::test
