// util/output_file: the events path opened in a checked, held folder; no symlink followed, no
// other user's file, no second name of a file, a FIFO without blocking, a new file with exactly
// the configured mode. Kernel-free; runs as any user (the owner rule is "root or this user").
#include "config/config_loader.hpp"
#include "runtime/output/event_writer.hpp"
#include "support/daemon_process.hpp"
#include "util/error.hpp"
#include "util/output_file.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>

using namespace fizzhost;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

std::string errorOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

mode_t modeOf(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("a missing events file is created with exactly the configured mode, whatever the umask", "[unit]") {
    test::TempDir dir;
    const auto path = dir.path() / "events.jsonl";
    for (mode_t mode : {mode_t(0640), mode_t(0600), mode_t(0664)}) {
        INFO(octalMode(mode));
        fs::remove(path);
        const mode_t old = ::umask(0077);
        OutputFile file(path, {mode, ""});
        CHECK_THAT(file.plan(), Contains("does not exist: created at start as a regular file of mode " + octalMode(mode)));
        OutputOpen o = file.open();
        ::umask(old);
        REQUIRE(o.fd);
        CHECK(o.created);
        CHECK(o.kind == OutputKind::Regular);
        CHECK(modeOf(path) == mode);
        // Open again: the same file, appended to, not created.
        OutputOpen again = file.open();
        REQUIRE(again.fd);
        CHECK_FALSE(again.created);
        CHECK(file.compare(again.st) == OutputFile::Name::Same);
    }
}

TEST_CASE("a symlink at the events name is refused, never followed, dangling or not", "[unit]") {
    test::TempDir dir;
    const auto path = dir.path() / "events.jsonl", target = dir.path() / "target", nowhere = dir.path() / "nowhere";
    std::ofstream(target) << "keep\n";
    OutputFile file(path, {});
    for (const auto& to : {target, nowhere}) {
        INFO(to);
        fs::remove(path);
        fs::create_symlink(to, path);
        OutputOpen o = file.open();
        CHECK_FALSE(o.fd);
        CHECK(o.refused);
        CHECK(o.err == ELOOP);
        CHECK_THAT(o.reason, Contains("is a symbolic link: never followed"));
        CHECK_THAT(errorOf([&] { file.plan(); }), Contains("is a symbolic link"));
        CHECK(file.compare(o.st) == OutputFile::Name::Other);
    }
    CHECK_FALSE(fs::exists(fs::symlink_status(nowhere)));
    CHECK(fs::file_size(target) == 5);
    // The writer refuses it at start, naming why.
    CHECK_THAT(errorOf([&] { runtime::EventWriter(path.string(), runtime::EventFormat::Json); }),
               Contains("is a symbolic link"));
}

TEST_CASE("a second name of a file (a hard link) is refused", "[unit]") {
    test::TempDir dir;
    const auto path = dir.path() / "events.jsonl", other = dir.path() / "other";
    std::ofstream(other) << "keep\n";
    REQUIRE(::link(other.c_str(), path.c_str()) == 0);
    OutputOpen o = OutputFile(path, {}).open();
    CHECK_FALSE(o.fd);
    CHECK(o.refused);
    CHECK_THAT(o.reason, Contains("has 2 hard links"));
    CHECK(fs::file_size(other) == 5);
}

TEST_CASE("the events folder must be closed to others, a sticky one excepted, and is held open", "[unit]") {
    test::TempDir dir;
    const auto folder = dir.path() / "logs";
    fs::create_directory(folder);
    const auto path = folder / "events.jsonl";
    REQUIRE(::chmod(folder.c_str(), 0775) == 0);
    CHECK_THAT(errorOf([&] { OutputFile(path, {}); }),
               Contains("events folder '" + folder.string() + "' is writable by group (mode 0775)") &&
                   Contains("chmod go-w"));
    REQUIRE(::chmod(folder.c_str(), 01777) == 0);  // like /tmp: anyone adds names, nobody removes others'
    OutputFile file(path, {});
    CHECK(file.open().fd);
    // Opened within the folder checked at start, not by its path: a folder swapped in under the
    // same name later is not where the file goes.
    REQUIRE(::chmod(folder.c_str(), 0755) == 0);
    fs::rename(folder, dir.path() / "logs.old");
    fs::create_directory(folder);
    fs::remove(dir.path() / "logs.old" / "events.jsonl");
    OutputOpen o = file.open();
    REQUIRE(o.fd);
    CHECK(fs::exists(dir.path() / "logs.old" / "events.jsonl"));
    CHECK_FALSE(fs::exists(path));
    // A held folder opened up to others since the start is no place to open anything any more.
    REQUIRE(::chmod((dir.path() / "logs.old").c_str(), 0777) == 0);
    o = file.open();
    CHECK_FALSE(o.fd);
    CHECK(o.refused);
    CHECK_THAT(o.reason, Contains("is writable by others (mode 0777) (it changed since the start)"));
}

TEST_CASE("a FIFO at the events path opens without blocking: no reader is ENXIO, not a refusal", "[unit]") {
    test::TempDir dir;
    const auto path = dir.path() / "events.fifo";
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    OutputFile file(path, {});
    CHECK_THAT(file.plan(), Contains("a FIFO: written without blocking"));
    OutputOpen none = file.open();
    CHECK_FALSE(none.fd);
    CHECK_FALSE(none.refused);
    CHECK(none.err == ENXIO);
    CHECK(none.kind == OutputKind::Fifo);

    // The writer starts anyway and counts what it cannot write; a reader later gets the events.
    struct IgnorePipe {  // as the daemon does: a reader gone is a write error (EPIPE), not a death
        void (*old)(int) = std::signal(SIGPIPE, SIG_IGN);
        ~IgnorePipe() { std::signal(SIGPIPE, old); }
    } ignorePipe;
    runtime::EventWriter w(path.string(), runtime::EventFormat::Json);
    runtime::EventTemplate tpl(runtime::EventFormat::Json, {"fzlab0", "fizz", "1.0.0", "baseline"}, {"Fizz"});
    fizzhost_event e{};
    e.src_addr = 0xC6120003u;
    w.write(tpl, e);
    REQUIRE(w.sync(std::chrono::steady_clock::now() + std::chrono::seconds(30)));
    CHECK(w.lost() == 1);
    CHECK(w.lastError() == ENXIO);
    UniqueFd reader(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(reader);
    w.requestReopen();
    w.write(tpl, e);
    REQUIRE(w.sync(std::chrono::steady_clock::now() + std::chrono::seconds(30)));
    CHECK(w.written() == 1);
    char buf[256];
    const ssize_t n = ::read(reader.get(), buf, sizeof buf);
    REQUIRE(n > 0);
    CHECK_THAT(std::string(buf, size_t(n)), Contains("\"src\":\"198.18.0.3\""));
    // The reader leaves: EPIPE, counted lost; no reader to open again.
    reader.reset();
    w.write(tpl, e);
    REQUIRE(w.sync(std::chrono::steady_clock::now() + std::chrono::seconds(30)));
    CHECK(w.lost() == 2);
    CHECK(w.lastError() == EPIPE);
    w.write(tpl, e);
    REQUIRE(w.sync(std::chrono::steady_clock::now() + std::chrono::seconds(30)));
    CHECK(w.lost() == 3);
}

TEST_CASE("events_mode and events_group: defaults, values and errors with a position", "[unit]") {
    const std::string iface = "[interface.eth0]\nclassifier = \"fizz\"\n";
    auto def = config::parseConfig(iface, "f.toml", "/p");
    CHECK(def.output.eventsMode == 0640);
    CHECK(def.output.eventsGroup.empty());
    auto set = config::parseConfig(iface + "[output]\nevents_mode = \"0600\"\nevents_group = \"adm\"\n", "f.toml", "/p");
    CHECK(set.output.eventsMode == 0600);
    CHECK(set.output.eventsGroup == "adm");
    CHECK(config::parseConfig(iface + "[output]\nevents_mode = \"664\"\n", "f.toml", "/p").output.eventsMode == 0664);
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"events_mode = \"0644x\"", "expected an octal mode such as \"0640\""},
        {"events_mode = \"0755\"", "has bits beyond read and write"},
        {"events_mode = \"4640\"", "has bits beyond read and write"},
        {"events_mode = \"0646\"", "lets every user write events"},
        {"events_mode = \"0440\"", "does not let the owner (fizzhost) write"},
        {"events_mode = 640", "expected a string, got an integer"},
        {"events_group = \"\"", "expected a group name"},
        {"events_group = \"a:b\"", "expected a group name"},
    };
    for (const auto& [line, says] : bad) {
        INFO(line);
        CHECK_THROWS_WITH(config::parseConfig(iface + "[output]\n" + line + "\n", "f.toml", "/p"),
                          Contains("f.toml:") && Contains("output.events_") && Contains(says));
    }
}
