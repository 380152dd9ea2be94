// The events path as root opens it: never led by a symlink, a hard link or another user's file
// put at the name (the folder may be sticky and open to all, like /tmp), never blocked by a FIFO;
// created with the configured mode and group; and `fizzhost check` says what the host will do.
// Every event that cannot be written is counted lost, in the status and the log.
#include "netns/daemon_lab.hpp"
#include "support/bpffs_dir.hpp"
#include "support/cli_run.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

constexpr uid_t kOtherUser = 65534;  // nobody: another local user

std::string interfaceTable(const DaemonLab& lab) { return "[interface." + lab.ifname() + "]\nclassifier = \"fizz\"\n"; }

template <typename Pred>
bool waitUntil(Pred pred, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

// Events fizz writes for these sources, by the reference rules.
size_t fizzEvents(const std::vector<uint32_t>& sources) {
    size_t n = 0;
    for (uint32_t s : sources) n += referenceKind("fizz", s).has_value();
    return n;
}

// Runs `fn` in a child process as another user (uid and gid 65534): what any local user could do.
bool asOtherUser(const std::function<bool()>& fn) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(kOtherUser, kOtherUser, kOtherUser) != 0 ||
            ::setresuid(kOtherUser, kOtherUser, kOtherUser) != 0)
            ::_exit(126);
        ::_exit(fn() ? 0 : 1);
    }
    int status = 0;
    return pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct FileState {
    std::string content;
    timespec mtime{};
    bool operator==(const FileState& o) const {
        return content == o.content && mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
    }
};

FileState stateOf(const std::filesystem::path& p) {
    FileState s;
    std::ifstream in(p);
    s.content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    s.mtime = st.st_mtim;
    return s;
}

size_t linesIn(const std::filesystem::path& p) {
    std::ifstream in(p);
    size_t n = 0;
    for (std::string line; std::getline(in, line);) n += !line.empty();
    return n;
}

uint64_t lostOf(const DaemonLab& lab) { return lab.status()["events_lost"].get<uint64_t>(); }

// Reads complete lines from a FIFO until `count` arrived or the time is up.
std::vector<std::string> readLines(int fd, size_t count, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    std::vector<std::string> lines;
    std::string partial;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (lines.size() < count && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        char buf[8192];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) continue;
        partial.append(buf, size_t(n));
        for (size_t nl; (nl = partial.find('\n')) != std::string::npos; partial.erase(0, nl + 1))
            lines.push_back(partial.substr(0, nl));
    }
    return lines;
}

}  // namespace

TEST_CASE("a FIFO as the events path: the host starts without a reader, counts what it cannot write, and "
          "writes to a reader that comes later, again after it left and came back",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const auto fifo = lab.dir() / "events.fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    lab.writeConfig(interfaceTable(lab) + "[output]\nevents = \"" + fifo.string() + "\"\nformat = \"json\"\n");

    // check says what the host will do with it, without opening it.
    auto check = runFizzhost({"check", "--config", lab.configPath().string()}, lab.hostNs().name());
    INFO(check.err);
    CHECK(check.status == 0);
    CHECK_THAT(check.err, Contains("events '" + fifo.string() + "': OK: a FIFO: written without blocking") &&
                              Contains("events are counted lost"));

    lab.start();  // before: open() waited for a reader forever
    CHECK(lab.daemon().waitForStderr("is a FIFO nobody reads yet", std::chrono::seconds(5)));
    const auto first = benchmarkSources(0, 300);
    REQUIRE(lab.send(first) == first.size());
    const size_t firstEvents = fizzEvents(first);
    CHECK(waitUntil([&] { return lostOf(lab) >= firstEvents; }));
    auto s = lab.status();
    CHECK(s["events_lost"] == firstEvents);
    CHECK(s["events_written"] == 0);
    CHECK(s["last_write_error"] == "No such device or address (ENXIO)");

    // A reader comes: the host opens the FIFO within a second and writes what comes next.
    UniqueFd reader(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(reader);
    REQUIRE(lab.daemon().waitForStderr("a reader has the FIFO", std::chrono::seconds(10)));
    const auto second = benchmarkSources(1000, 300);
    REQUIRE(lab.send(second) == second.size());
    const auto lines = readLines(reader.get(), fizzEvents(second));
    CHECK(lines.size() == fizzEvents(second));
    for (const auto& l : lines) CHECK(nlohmann::json::parse(l)["kind"] == "Fizz");

    // The reader leaves: the next batch meets EPIPE and is counted lost; a new reader gets events again.
    reader.reset();
    const auto third = benchmarkSources(2000, 300);
    REQUIRE(lab.send(third) == third.size());
    CHECK(lab.daemon().waitForStderr("the FIFO's reader went away (EPIPE)", std::chrono::seconds(10)));
    CHECK(waitUntil([&] { return lostOf(lab) >= firstEvents + fizzEvents(third); }));
    CHECK(lostOf(lab) == firstEvents + fizzEvents(third));
    reader.reset(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(lab.daemon().waitForStderr("a reader has the FIFO", std::chrono::seconds(10), 2));
    const auto fourth = benchmarkSources(3000, 300);
    REQUIRE(lab.send(fourth) == fourth.size());
    CHECK(readLines(reader.get(), fizzEvents(fourth)).size() == fizzEvents(fourth));
    s = lab.status();
    CHECK(s["events_written"] == lines.size() + fizzEvents(fourth));
    CHECK(lab.stop() == 0);
}

TEST_CASE("root never writes through a symlink, a hard link or another user's file put at the events path of a "
          "sticky folder open to all, and counts what it could not write",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    // A folder like /tmp: root's, sticky, anyone may add a name (the lab's folder lets others pass).
    REQUIRE(::chmod(lab.dir().c_str(), 0711) == 0);
    const auto shared = lab.dir() / "shared";
    std::filesystem::create_directory(shared);
    REQUIRE(::chmod(shared.c_str(), 01777) == 0);
    const auto events = shared / "events.jsonl", rotated = shared / "events.jsonl.1";
    // A file only root may read or write, and a path where nothing exists.
    const auto secret = lab.dir() / "secret";
    std::ofstream(secret) << "precious\n";
    REQUIRE(::chmod(secret.c_str(), 0600) == 0);
    const timespec past[2] = {{1000000000, 0}, {1000000000, 0}};
    REQUIRE(::utimensat(AT_FDCWD, secret.c_str(), past, 0) == 0);
    const FileState secretBefore = stateOf(secret);
    const auto nowhere = lab.dir() / "made-by-root";

    lab.writeConfig(interfaceTable(lab) + "[output]\nevents = \"" + events.string() + "\"\nformat = \"json\"\n");
    lab.start();
    auto batch = [&, next = uint32_t(0)]() mutable {
        const auto sources = benchmarkSources(next, 300);
        next += 300;
        REQUIRE(lab.send(sources) == sources.size());
        return fizzEvents(sources);
    };
    size_t delivered = batch();
    REQUIRE(waitUntil([&] { return linesIn(events) == delivered; }));
    // Waits for one more log line holding `needle` than there were when `before` was counted.
    auto logged = [&](const std::string& needle) { return countOccurrences(lab.daemon().stderrText(), needle); };
    auto waitForMore = [&](const std::string& needle, size_t before) {
        return lab.daemon().waitForStderr(needle, std::chrono::seconds(10), before + 1);
    };
    const std::string kLink = "is a symbolic link: never followed", kOpen = "open again",
                      kOther = "is owned by uid 65534, not root", kHardLink = "has 2 hard links";
    // Puts something at the events name; when the host made its own file there first (it looks at
    // the name every second), that file goes and the attempt is repeated.
    auto place = [&](const std::function<bool()>& make) {
        for (int attempt = 0; attempt < 5; ++attempt) {
            if (make()) return true;
            std::filesystem::remove(events);
        }
        return false;
    };

    // Rotated away; another user puts a symlink to the root-only file at the name.
    size_t before = logged(kLink);
    std::filesystem::rename(events, rotated);
    REQUIRE(place([&] { return asOtherUser([&] { return ::symlink(secret.c_str(), events.c_str()) == 0; }); }));
    CHECK(waitForMore(kLink, before));  // CHECK: what follows shows what was written where
    size_t lost = batch();
    CHECK(waitUntil([&] { return lostOf(lab) >= lost; }));
    CHECK(lostOf(lab) == lost);
    CHECK(stateOf(secret) == secretBefore);
    CHECK(lab.status()["last_write_error"] == "Too many levels of symbolic links (ELOOP)");

    // The link goes: the host makes its own file there and writes again.
    before = logged(kOpen);
    std::filesystem::remove(events);
    REQUIRE(waitForMore(kOpen, before));
    size_t inNew = batch();
    delivered += inNew;
    CHECK(waitUntil([&] { return linesIn(events) == inNew; }));

    // Rotated again; a symlink to a path where nothing is: root must not create a file there.
    before = logged(kLink);
    std::filesystem::rename(events, rotated);
    REQUIRE(place([&] { return asOtherUser([&] { return ::symlink(nowhere.c_str(), events.c_str()) == 0; }); }));
    CHECK(waitForMore(kLink, before));  // CHECK: what follows shows what was written where
    lost += batch();
    CHECK(waitUntil([&] { return lostOf(lab) >= lost; }));
    CHECK_FALSE(std::filesystem::exists(std::filesystem::symlink_status(nowhere)));

    // A regular file of the other user at the name (a sticky folder lets them make one).
    before = logged(kOther);
    std::filesystem::remove(events);
    REQUIRE(place([&] {
        return asOtherUser([&] {
            const int fd = ::open(events.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0666);
            return fd >= 0 && ::close(fd) == 0;
        });
    }));
    lab.daemon().signal(SIGUSR1);  // asked to reopen: the answer is the same refusal
    REQUIRE(waitForMore(kOther, before));
    lost += batch();
    CHECK(waitUntil([&] { return lostOf(lab) >= lost; }));
    CHECK(std::filesystem::file_size(events) == 0);

    // A second name of the root-only file.
    before = logged(kHardLink);
    std::filesystem::remove(events);
    REQUIRE(place([&] { return ::link(secret.c_str(), events.c_str()) == 0; }));
    REQUIRE(waitForMore(kHardLink, before));
    lost += batch();
    CHECK(waitUntil([&] { return lostOf(lab) >= lost; }));
    CHECK(stateOf(secret) == secretBefore);

    before = logged(kOpen);
    std::filesystem::remove(events);
    REQUIRE(waitForMore(kOpen, before));
    inNew = batch();
    delivered += inNew;
    CHECK(waitUntil([&] { return linesIn(events) == inNew; }));

    // Counted: every event either written or lost, and status says which.
    const auto s = lab.status();
    CHECK(s["events_lost"] == lost);
    CHECK(s["events_written"] == delivered);
    CHECK(stateOf(secret) == secretBefore);
    CHECK_FALSE(std::filesystem::exists(std::filesystem::symlink_status(nowhere)));
    CHECK(lab.stop() == 0);
    CHECK_THAT(lab.daemon().stderrText(), Contains(std::to_string(lost) + " event(s) lost at the events output"));
}

TEST_CASE("the events file is created with the configured mode (default 0640) and group", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const auto events = lab.dir() / "events.jsonl";
    auto modeOf = [&] {
        struct stat st {};
        REQUIRE(::stat(events.c_str(), &st) == 0);
        return std::pair{st.st_mode & 07777, st.st_gid};
    };
    lab.writeConfig(interfaceTable(lab));
    {
        struct OpenUmask {  // the daemon inherits it: the file's mode must not depend on it
            ::mode_t before = ::umask(0);
            ~OpenUmask() { ::umask(before); }
        } open;
        lab.start();
    }
    CHECK(modeOf() == std::pair{mode_t(0640), ::getegid()});
    CHECK(lab.stop() == 0);

    std::filesystem::remove(events);
    const struct group* nogroup = ::getgrnam("nogroup");
    REQUIRE(nogroup);
    const gid_t gid = nogroup->gr_gid;
    lab.writeConfig(interfaceTable(lab) + "[output]\nevents = \"" + events.string() +
                    "\"\nformat = \"json\"\nevents_mode = \"0660\"\nevents_group = \"nogroup\"\n");
    auto check = runFizzhost({"check", "--config", lab.configPath().string()}, lab.hostNs().name());
    CHECK_THAT(check.err, Contains("events '" + events.string() +
                                   "': OK: does not exist: created at start as a regular file of mode 0660, group "
                                   "'nogroup', then appended to"));
    lab.start();
    CHECK(modeOf() == std::pair{mode_t(0660), gid});
    const auto sources = benchmarkSources(0, 30);
    lab.send(sources);
    CHECK(waitUntil([&] { return linesIn(events) == fizzEvents(sources); }));
    CHECK(lab.stop() == 0);
}

TEST_CASE("an events folder another user can write, a symlinked events path or an unknown group: check says "
          "why and the daemon refuses to start",
          "[bpf]") {
    if (!requirePrivilege("fizzhost check (chown, BPF)")) return;
    NetNs ns;
    TempDir dir;
    BpffsDir state;  // should a daemon start after all, it pins here, never in the machine's state root
    const auto cfg = dir.path() / "fizz.toml";
    auto write = [&](const std::filesystem::path& events, const std::string& more = "") {
        std::ofstream(cfg) << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\ncontrol_socket = \""
                           << (dir.path() / "c.sock").string() << "\"\n[service]\nstate_root = \""
                           << state.path().string() << "\"\n[output]\nevents = \"" << events.string() << "\"\n"
                           << more << "[interface.lo]\nclassifier = \"fizz\"\n";
    };
    auto refused = [&](const std::string& why) {
        auto check = runFizzhost({"check", "--config", cfg.string()}, ns.name());
        CHECK(check.status == 1);
        CHECK_THAT(check.err, Contains(why));
        DaemonProcess daemon({FIZZHOST_BINARY, "--config", cfg.string()}, {}, ns.name());
        CHECK(daemon.waitExit(std::chrono::seconds(20)) == 1);  // killed on scope exit if it runs
        CHECK_THAT(daemon.stderrText(), Contains(why));
        CHECK_FALSE(daemon.stderrText().find("attached") != std::string::npos);
    };
    const auto open = dir.path() / "open";
    std::filesystem::create_directory(open);
    SECTION("a folder others may write (not sticky)") {
        REQUIRE(::chmod(open.c_str(), 0777) == 0);
        write(open / "events.jsonl");
        refused("events folder '" + open.string() + "' is writable by others (mode 0777): another user could put a link");
    }
    SECTION("a folder of another user") {
        REQUIRE(::chown(open.c_str(), kOtherUser, kOtherUser) == 0);
        write(open / "events.jsonl");
        refused("events folder '" + open.string() + "' is owned by uid 65534");
    }
    SECTION("a symlink at the path") {
        const auto target = dir.path() / "target.jsonl";
        std::ofstream(target) << "";
        std::filesystem::create_symlink(target, open / "events.jsonl");
        write(open / "events.jsonl");
        refused("events '" + (open / "events.jsonl").string() + "' is a symbolic link: never followed");
        CHECK(std::filesystem::file_size(target) == 0);
    }
    SECTION("a folder reached through a symlink") {
        std::filesystem::create_directory_symlink(open, dir.path() / "link");
        write(dir.path() / "link" / "events.jsonl");
        refused("is reached through a symbolic link (or is not a folder): the events file is opened only in a folder "
                "named by its real path, here '" + open.string() + "'");
    }
    SECTION("an unknown group") {
        write(open / "events.jsonl", "events_group = \"no-such-group-fz\"\n");
        refused("events_group 'no-such-group-fz': no such group");
        CHECK_FALSE(std::filesystem::exists(open / "events.jsonl"));
    }
}
