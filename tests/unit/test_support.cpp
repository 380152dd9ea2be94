// The test-support library checked on its own, so a broken fixture shows here and not as a
// mysterious failure in a daemon test: frames, the reference rules, command and process helpers,
// and the namespace fixtures (traffic arrives, nothing is left behind).
#include "support/daemon_process.hpp"
#include "support/frame_builder.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"

#include <catch2/catch.hpp>
#include <linux/capability.h>
#include <net/if.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

constexpr size_t kEth = 14;

uint16_t be16(const std::vector<uint8_t>& f, size_t at) { return uint16_t(f[at] << 8 | f[at + 1]); }
uint32_t be32(const std::vector<uint8_t>& f, size_t at) { return uint32_t(be16(f, at)) << 16 | be16(f, at + 2); }

// One's-complement sum over the UDP pseudo-header and datagram, written out here rather than
// shared with the builder: a correct checksum makes the total 0xffff.
uint16_t udpVerify(const std::vector<uint8_t>& f, size_t ip) {
    const size_t udp = ip + size_t(f[ip] & 0x0f) * 4;
    const uint16_t length = be16(f, udp + 4);
    uint32_t sum = be16(f, ip + 12) + be16(f, ip + 14) + be16(f, ip + 16) + be16(f, ip + 18) + 17u + length;
    for (size_t i = 0; i < length; i += 2) sum += i + 1 < length ? be16(f, udp + i) : uint32_t(f[udp + i] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(sum);
}

ino_t netnsInode() {
    struct stat st{};
    REQUIRE(stat("/proc/thread-self/ns/net", &st) == 0);
    return st.st_ino;
}

bool netnsListed(const std::string& name) {
    return countOccurrences(run({"ip", "netns", "list"}).out, name) > 0;
}

// A pid that certainly belonged to a process that is gone: a child that exited and was reaped.
pid_t deadPid() {
    const pid_t pid = fork();
    if (pid == 0) _exit(0);
    REQUIRE(pid > 0);
    REQUIRE(waitpid(pid, nullptr, 0) == pid);
    return pid;
}

// A namespace made by hand with a name NetNs would not choose; deleted on scope exit regardless.
struct ManualNetns {
    explicit ManualNetns(std::string n) : name(std::move(n)) { run({"ip", "netns", "add", name}); }
    ~ManualNetns() { runUnchecked({"ip", "netns", "del", name}); }
    std::string name;
};

}  // namespace

TEST_CASE("frame builder: a plain IPv4/UDP frame has the right lengths, checksums and addresses", "[unit]") {
    const auto f = FrameBuilder().ipv4(0xC612000F, 0xC6120001).udp(1234, 5678).payload(100).build();
    REQUIRE(f.size() == kEth + 20 + 8 + 100);
    CHECK((f[0] & 0x03) == 0x02);  // destination: locally administered, unicast
    CHECK((f[6] & 0x03) == 0x02);  // source too
    CHECK(be16(f, 12) == 0x0800);
    CHECK(f[kEth] == 0x45);
    CHECK(be16(f, kEth + 2) == f.size() - kEth);  // total length
    CHECK(f[kEth + 9] == 17);
    CHECK(be32(f, kEth + 12) == 0xC612000F);
    CHECK(be32(f, kEth + 16) == 0xC6120001);
    CHECK(ipChecksum(&f[kEth], 20) == 0);
    CHECK(be16(f, kEth + 10) != 0);
    CHECK(be16(f, kEth + 20) == 1234);
    CHECK(be16(f, kEth + 22) == 5678);
    CHECK(be16(f, kEth + 24) == 8 + 100);
    CHECK(udpVerify(f, kEth) == 0xffff);

    // The defaults: a 60-byte minimum frame from and to the benchmarking net.
    const auto d = FrameBuilder().build();
    CHECK(d.size() == 60);
    CHECK((be32(d, kEth + 12) & kTestNetMask) == kTestNet);
    CHECK((be32(d, kEth + 16) & kTestNetMask) == kTestNet);
    CHECK(FrameBuilder().payload(0).build().size() == kEth + 28);
    CHECK_THROWS_AS(FrameBuilder().payload(65536).build(), std::invalid_argument);

    // A different header must give a different, still valid, checksum.
    const auto g = FrameBuilder().ipv4(0xC6130203).build();
    CHECK(ipChecksum(&g[kEth], 20) == 0);
    CHECK(be16(g, kEth + 10) != be16(FrameBuilder().ipv4(0xC6130204).build(), kEth + 10));
}

TEST_CASE("frame builder: IPv4 options grow the IHL and keep every length and checksum right", "[unit]") {
    for (int words = 0; words <= 10; ++words) {
        CAPTURE(words);
        const auto f = FrameBuilder().ipv4(0xC6120003).ipOptions(words).udp().payload(10).build();
        const size_t ihl = 5 + size_t(words);
        CHECK(f[kEth] == (0x40 | ihl));
        CHECK(f.size() == kEth + ihl * 4 + 8 + 10);
        CHECK(be16(f, kEth + 2) == f.size() - kEth);
        CHECK(ipChecksum(&f[kEth], ihl * 4) == 0);
        CHECK(udpVerify(f, kEth) == 0xffff);
        if (words > 0) {
            CHECK(f[kEth + 20] == 0x01);          // NOP
            CHECK(f[kEth + ihl * 4 - 1] == 0x00);  // EOL ends the options
        }
    }
    CHECK_THROWS_AS(FrameBuilder().ipOptions(11), std::invalid_argument);
    CHECK_THROWS_AS(FrameBuilder().ipOptions(-1), std::invalid_argument);
}

TEST_CASE("frame builder: one VLAN tag is 802.1Q, two are QinQ with an 802.1ad outer tag", "[unit]") {
    const auto one = FrameBuilder().vlan(100).ipv4(0xC6120003).build();
    CHECK(one.size() == 64);
    CHECK(be16(one, 12) == 0x8100);
    CHECK(be16(one, 14) == 100);
    CHECK(be16(one, 16) == 0x0800);
    CHECK(ipChecksum(&one[18], 20) == 0);
    CHECK(be32(one, 18 + 12) == 0xC6120003);

    const auto two = FrameBuilder().vlan(10).vlan(4095).ipv4(0xC6120003).build();
    CHECK(two.size() == 68);
    CHECK(be16(two, 12) == 0x88a8);
    CHECK(be16(two, 14) == 10);
    CHECK(be16(two, 16) == 0x8100);
    CHECK(be16(two, 18) == 4095);
    CHECK(be16(two, 20) == 0x0800);
    CHECK(ipChecksum(&two[22], 20) == 0);
    CHECK(udpVerify(two, 22) == 0xffff);

    // More tags than the classifiers parse can still be built, to test that they give up.
    const auto three = FrameBuilder().vlan(1).vlan(2).vlan(3).build();
    CHECK(be16(three, 12) == 0x88a8);
    CHECK(be16(three, 16) == 0x8100);
    CHECK(be16(three, 20) == 0x8100);
    CHECK(be16(three, 24) == 0x0800);
    CHECK_THROWS_AS(FrameBuilder().vlan(4096), std::invalid_argument);
}

TEST_CASE("frame builder: IPv6, ARP and truncated frames", "[unit]") {
    const auto v6 = ipv6Frame();
    CHECK(v6.size() == kEth + 40 + 8);
    CHECK(be16(v6, 12) == 0x86dd);
    CHECK(v6[kEth] >> 4 == 6);
    CHECK(be16(v6, kEth + 8) == 0x2001);  // 2001:db8::/32, documentation
    CHECK(be16(v6, kEth + 10) == 0x0db8);
    // The decoy: where an IPv4 parser reads the source, a Fizz address.
    CHECK(be32(v6, kEth + 12) == 0xC6120003);
    CHECK(referenceKind("fizz", 0xC6120003) == std::optional<std::string>("Fizz"));

    const auto arp = arpFrame();
    CHECK(arp.size() == 60);
    CHECK(be16(arp, 12) == 0x0806);
    CHECK(be32(arp, kEth + 14) == 0xC6120003);  // sender protocol address

    for (size_t bytes : {0u, 12u, 19u}) {
        const auto t = truncatedIpv4Frame(0xC6120003, bytes);
        CHECK(t.size() == kEth + bytes);
        CHECK(be16(t, 12) == 0x0800);
    }
    const auto t = truncatedIpv4Frame(16);
    CHECK(be32(t, kEth + 12) == kDefaultSrc);
}

TEST_CASE("parseIpv4 and formatIpv4 are strict inverses", "[unit]") {
    CHECK(parseIpv4("198.18.0.15") == 0xC612000Fu);
    CHECK(parseIpv4("0.0.0.0") == 0u);
    CHECK(parseIpv4("255.255.255.255") == 0xffffffffu);
    CHECK(formatIpv4(0xC612000F) == "198.18.0.15");
    CHECK(formatIpv4(0) == "0.0.0.0");
    for (uint32_t a : {0xC6120000u, 0xC613FFFFu, 0x7f000001u, 0xffffffffu}) CHECK(parseIpv4(formatIpv4(a)) == a);
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "1.2.3.4 ", " 1.2.3.4", "01.2.3.4",
                            "1..2.3", "a.b.c.d", "1.2.3.4/24", "+1.2.3.4"}) {
        CAPTURE(bad);
        CHECK_FALSE(parseIpv4(bad));
    }
}

TEST_CASE("reference: fizz and fizzbuzz", "[unit]") {
    // 198.18.0.15 is 3323068431: divisible by 3, not by 5 (it ends in 1), so Fizz, not FizzBuzz.
    CHECK(referenceKind("fizzbuzz", 0xC612000F) == std::optional<std::string>("Fizz"));
    CHECK(referenceKind("fizzbuzz", 0xC6120009) == std::optional<std::string>("FizzBuzz"));  // 198.18.0.9
    CHECK(referenceKind("fizzbuzz", 0xC6120004) == std::optional<std::string>("Buzz"));
    CHECK(referenceKind("fizzbuzz", 0xC6120001) == std::nullopt);
    CHECK(referenceKind("fizzbuzz", 0) == std::optional<std::string>("FizzBuzz"));
    CHECK(referenceKind("fizz", 0xC612000F) == std::optional<std::string>("Fizz"));
    CHECK(referenceKind("fizz", 0xC6120009) == std::optional<std::string>("Fizz"));  // fizz knows no FizzBuzz
    CHECK(referenceKind("fizz", 0xC6120004) == std::nullopt);
    CHECK(referenceKind("fizz", 0xffffffff) == std::optional<std::string>("Fizz"));  // 4294967295 = 3 * 1431655765
    CHECK_THROWS_AS(referenceKind("buzz", 1), std::invalid_argument);
    CHECK_THROWS_WITH(referenceKind("", 1), Contains("no reference for plugin ''"));
}

TEST_CASE("reference: fibonacci wins over fizzbuzz; the naive loop's 8-bit quirks", "[unit]") {
    // Fibonacci octets win even where fizzbuzz would answer.
    CHECK(referenceKind("fibonacci", 0xC6120090) == std::optional<std::string>("Fibonacci"));  // .0.144, /15
    CHECK(referenceKind("fizzbuzz", 0xC6120090) == std::optional<std::string>("FizzBuzz"));
    CHECK(referenceKind("fibonacci", 0xC61201E9) == std::optional<std::string>("Fibonacci"));  // .1.233, /3
    CHECK(referenceKind("fizz", 0xC61201E9) == std::optional<std::string>("Fizz"));
    CHECK(referenceKind("fibonacci", 0xC6120000) == std::optional<std::string>("Fibonacci"));  // .0 is F(0)
    // Not a Fibonacci octet: the fizzbuzz rules.
    CHECK(referenceKind("fibonacci", 0xC6120006) == std::optional<std::string>("Fizz"));
    CHECK(referenceKind("fibonacci", 0xC6120004) == std::optional<std::string>("Buzz"));
    CHECK(referenceKind("fibonacci", 0xC61200F1) == std::nullopt);  // .241

    // Octet by octet, the naive loop agrees with the table except for 0 (never found) and the
    // five octets a wrapped sum lands on (255 after 381 steps, the longest walk).
    const std::set<uint32_t> kNaiveDiffers = {0, 241, 245, 247, 253, 255};
    for (uint32_t octet = 0; octet < 256; ++octet) {
        CAPTURE(octet);
        const uint32_t src = 0xC6120000u | octet;
        const bool naive = referenceKind("fibonacci-naive", src) == std::optional<std::string>("Fibonacci");
        const bool table = referenceKind("fibonacci", src) == std::optional<std::string>("Fibonacci");
        CHECK((naive != table) == (kNaiveDiffers.count(octet) == 1));
    }
    CHECK(referenceKind("fibonacci-naive", 0xC6120000) == std::optional<std::string>("Fizz"));
    CHECK(referenceKind("fibonacci-naive", 0xC61200F1) == std::optional<std::string>("Fibonacci"));
    CHECK(referenceKind("fibonacci-naive", 0xC61200FF) == std::optional<std::string>("Fibonacci"));
    CHECK(referenceKind("fibonacci-naive", 0xC61200FE) == std::optional<std::string>("Buzz"));
}

TEST_CASE("run captures stdout, stderr and the status, and throws with the command and its stderr", "[unit]") {
    const auto ok = run({"sh", "-c", "echo out; echo err >&2"});
    CHECK(ok.status == 0);
    CHECK(ok.out == "out\n");
    CHECK(ok.err == "err\n");

    // More than a pipe holds on both streams at once must not deadlock.
    const auto big = run({"sh", "-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2"});
    CHECK(big.out.size() == 300000);
    CHECK(big.err.size() == 200000);

    CHECK(runUnchecked({"sh", "-c", "exit 3"}).status == 3);
    CHECK(runUnchecked({"sh", "-c", "kill -9 $$"}).status == 128 + SIGKILL);
    CHECK(run({"cat"}).out.empty());  // stdin is /dev/null, not the test's terminal
    CHECK_THROWS_WITH(run({"sh", "-c", "echo why >&2; exit 3"}),
                      Contains("status 3") && Contains("sh -c") && Contains("why"));
    CHECK_THROWS_WITH(run({"/nonexistent/fizz"}), Contains("cannot run '/nonexistent/fizz'") &&
                                                      Contains("No such file or directory"));
    CHECK_THROWS_AS(run({}), std::invalid_argument);
}

TEST_CASE("DaemonProcess waits for output, signals, reports exit and is killed and reaped on scope exit",
          "[unit]") {
    SECTION("output, signal, exit status") {
        DaemonProcess d({"sh", "-c", "echo ready; echo warming >&2; echo warming >&2; exec sleep 30"});
        REQUIRE(d.waitForStdout("ready", std::chrono::seconds(10)));
        REQUIRE(d.waitForStderr("warming", std::chrono::seconds(10), 2));
        CHECK_FALSE(d.waitForStderr("never", std::chrono::milliseconds(50)));
        CHECK_FALSE(d.waitExit(std::chrono::milliseconds(0)));
        d.signal(SIGTERM);
        CHECK(d.waitExit(std::chrono::seconds(10)) == 128 + SIGTERM);
        CHECK(d.stdoutText() == "ready\n");
        CHECK(countOccurrences(d.stderrText(), "warming") == 2);
        d.signal(SIGTERM);  // reaped: a no-op, not a signal to whoever has the pid now
    }
    SECTION("the destructor kills and reaps; its own folder goes with it") {
        pid_t pid = -1;
        std::filesystem::path dir;
        {
            DaemonProcess d({"sleep", "30"});
            pid = d.pid();
            dir = d.stdoutPath().parent_path();
            CHECK(std::filesystem::exists(d.stderrPath()));
        }
        CHECK(kill(pid, 0) == -1);
        CHECK(errno == ESRCH);  // not even a zombie
        CHECK_FALSE(std::filesystem::exists(dir));
    }
    SECTION("a shared folder keeps each process's logs apart; exec failure is visible") {
        TempDir dir;
        DaemonProcess first({"sh", "-c", "echo one >&2"}, dir.path());
        DaemonProcess second({"/nonexistent/fizzhost"}, dir.path());
        CHECK(first.waitExit(std::chrono::seconds(10)) == 0);
        CHECK(second.waitExit(std::chrono::seconds(10)) == 127);
        CHECK(first.stderrText() == "one\n");
        CHECK_THAT(second.stderrText(), Contains("cannot execute /nonexistent/fizzhost"));
        // An exited process ends the wait at once instead of at the timeout.
        const auto start = std::chrono::steady_clock::now();
        CHECK_FALSE(second.waitForStdout("ready", std::chrono::seconds(30)));
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    }
    SECTION("TempDir is private and removed with its contents") {
        std::filesystem::path path;
        {
            TempDir dir;
            path = dir.path();
            CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
                  std::filesystem::perms::owner_all);
            std::filesystem::create_directories(path / "a" / "b");
            std::ofstream(path / "a" / "b" / "f") << "x";
        }
        CHECK_FALSE(std::filesystem::exists(path));
    }
}

TEST_CASE("processAlive treats zombies as gone; TempDir::sweepStale removes only dead runs' folders", "[unit]") {
    CHECK(processAlive(getpid()));
    CHECK_FALSE(processAlive(0));
    CHECK_FALSE(processAlive(-5));
    const pid_t zombie = fork();
    REQUIRE(zombie >= 0);
    if (zombie == 0) _exit(0);
    // Not reaped yet: a zombie, like a killed test binary whose parent has not waited.
    for (int i = 0; i < 500 && processAlive(zombie); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    CHECK_FALSE(processAlive(zombie));
    REQUIRE(waitpid(zombie, nullptr, 0) == zombie);

    const std::filesystem::path stale = "/tmp/fizzhost-test-" + std::to_string(deadPid()) + "-sweep1";
    std::filesystem::create_directories(stale / "inner");
    TempDir live;
    CHECK(TempDir::sweepStale() >= 1);
    CHECK_FALSE(std::filesystem::exists(stale));
    CHECK(std::filesystem::exists(live.path()));
}

TEST_CASE("privilege comes from the effective capabilities, not from the uid", "[unit]") {
    // In a child, drop every effective capability (the uid stays what it is): no longer privileged.
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
        if (syscall(SYS_capget, &header, data) != 0) _exit(2);
        for (auto& d : data) d.effective = 0;
        if (syscall(SYS_capset, &header, data) != 0) _exit(3);
        _exit(hasPrivilege() ? 1 : 0);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a veth pair between two namespaces carries 1000 raw frames, all of them, and leaves nothing behind",
          "[netns]") {
    if (!requirePrivilege("veth pair between network namespaces")) return;
    std::string nsA, nsB, ifA;
    {
        NetNs a, b;
        nsA = a.name();
        nsB = b.name();
        CHECK(nsA.rfind("fzt", 0) == 0);
        CHECK(std::filesystem::exists(a.path()));
        CHECK(netnsListed(nsA));

        VethPair veth(a, b, 9000);
        ifA = veth.nameA();
        CHECK(veth.nameA().size() < IFNAMSIZ);
        CHECK(veth.nameB().size() < IFNAMSIZ);
        CHECK(veth.nameA().rfind("fzt", 0) == 0);
        CHECK(if_nametoindex(veth.nameA().c_str()) == 0);  // never in the root namespace
        CHECK(if_nametoindex(veth.nameB().c_str()) == 0);
        {
            ScopedNetns in(a);
            CHECK(int(if_nametoindex(veth.nameA().c_str())) == veth.ifindexA());
            CHECK(if_nametoindex(veth.nameB().c_str()) == 0);
        }
        {
            ScopedNetns in(b);
            CHECK(int(if_nametoindex(veth.nameB().c_str())) == veth.ifindexB());
        }
        CHECK_THAT(run({"ip", "-n", nsB, "-o", "link", "show", veth.nameB()}).out,
                   Contains("mtu 9000") && Contains("state UP"));

        RawReceiver receiver(b, veth.nameB());
        RawSender sender(a, veth.nameA());
        constexpr size_t kFrames = 1000;
        std::vector<std::vector<uint8_t>> frames;
        for (size_t i = 0; i < kFrames; ++i) {
            FrameBuilder fb;
            if (i % 7 == 0) fb.vlan(100);
            fb.ipv4(kTestNet + uint32_t(i)).udp(40000, 9).payload(i % 3 == 0 ? 8000 : 18);
            frames.push_back(fb.build());
        }
        REQUIRE(sender.sendBatch(frames) == kFrames);

        std::set<size_t> seen;
        size_t strays = 0, mismatched = 0;
        while (seen.size() < kFrames) {
            auto f = receiver.receive(std::chrono::seconds(5));
            if (!f) break;
            const size_t ip = be16(*f, 12) == 0x8100 ? 18 : kEth;
            const size_t index = f->size() >= ip + 20 ? size_t(be32(*f, ip + 12) - kTestNet) : kFrames;
            if (index >= kFrames) {
                ++strays;
                continue;
            }
            if (*f != frames[index]) ++mismatched;
            seen.insert(index);
        }
        CHECK(seen.size() == kFrames);
        CHECK(mismatched == 0);
        CHECK(strays == 0);  // IPv6 is off and nothing has an address: the link is silent otherwise
        CHECK(receiver.dropped() == 0);
    }
    CHECK_FALSE(std::filesystem::exists("/var/run/netns/" + nsA));
    CHECK_FALSE(std::filesystem::exists("/var/run/netns/" + nsB));
    CHECK_FALSE(netnsListed(nsA));
    CHECK_FALSE(netnsListed(nsB));
    CHECK(if_nametoindex(ifA.c_str()) == 0);
}

TEST_CASE("fixtures clean up when the test body throws half-way", "[netns]") {
    if (!requirePrivilege("network namespaces")) return;
    std::string nsA, nsB;
    try {
        NetNs a, b;
        nsA = a.name();
        nsB = b.name();
        VethPair veth(a, b);
        RawSender sender(a, veth.nameA());
        // What a failing REQUIRE does: throw out of the test body.
        throw std::runtime_error("on purpose");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) == "on purpose");
    }
    CHECK_FALSE(netnsListed(nsA));
    CHECK_FALSE(netnsListed(nsB));
}

TEST_CASE("ScopedNetns moves only the calling thread, and moves it back", "[netns]") {
    if (!requirePrivilege("network namespaces")) return;
    NetNs ns;
    const ino_t outside = netnsInode();
    std::atomic<bool> go{false};
    ino_t seen = 0;
    std::jthread waiter([&](std::stop_token stop) {
        while (!go && !stop.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        struct stat st{};
        if (stat("/proc/thread-self/ns/net", &st) == 0) seen = st.st_ino;
    });
    {
        ScopedNetns in(ns);
        CHECK(netnsInode() != outside);
        // A thread started inside would inherit the namespace (clone copies it); one that was
        // already running must not be moved.
        go = true;
        waiter.join();
        CHECK(seen == outside);
        CHECK(if_nametoindex("lo") == 1);
    }
    CHECK(netnsInode() == outside);
    CHECK_THROWS_WITH(ScopedNetns("fztns-does-not-exist"), Contains("fztns-does-not-exist"));
    CHECK(netnsInode() == outside);
}

TEST_CASE("DaemonProcess can start its child inside a namespace", "[netns]") {
    if (!requirePrivilege("network namespaces")) return;
    NetNs a, b;
    VethPair veth(a, b);
    DaemonProcess d({"ip", "-o", "link", "show"}, {}, a.name());
    REQUIRE(d.waitExit(std::chrono::seconds(10)) == 0);
    const auto links = d.stdoutText();
    CHECK_THAT(links, Contains(": lo:") && Contains(veth.nameA()));
    CHECK(countOccurrences(links, "\n") == 2);  // lo and the veth end, nothing of the host's
    CHECK_THROWS_WITH(DaemonProcess({"true"}, {}, "fztns-does-not-exist"), Contains("fztns-does-not-exist"));
}

TEST_CASE("sweepStale removes what a dead run left and keeps what a live one owns", "[netns]") {
    if (!requirePrivilege("network namespaces")) return;
    const std::string dead = std::to_string(deadPid());
    const ManualNetns stale("fztns" + dead + "-0");
    const ManualNetns foreign("fztnsmanual-0");  // our prefix but not our pattern: not ours to judge
    NetNs live;
    {
        // A stale link, made inside a test namespace so the root namespace is never touched; the
        // sweep looks at the links of the calling thread's namespace.
        ScopedNetns in(live);
        run({"ip", "link", "add", "fzt" + dead + "a0", "type", "veth", "peer", "name", "fzt" + dead + "b0"});
        run({"ip", "link", "add", "fztnothere0", "type", "veth", "peer", "name", "fztnothere1"});
        CHECK(NetNs::sweepStale() >= 2);  // the namespace and the pair (one deletion removes both ends)
        CHECK(if_nametoindex(("fzt" + dead + "a0").c_str()) == 0);
        CHECK(if_nametoindex(("fzt" + dead + "b0").c_str()) == 0);
        CHECK(if_nametoindex("fztnothere0") != 0);
    }
    CHECK_FALSE(netnsListed(stale.name));
    CHECK(netnsListed(foreign.name));
    CHECK(netnsListed(live.name()));
}
