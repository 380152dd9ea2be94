// `fizzhost check` and the daemon on the paths a config names besides plugins: the control socket
// (its folder must be root's and closed to others; only a stale socket is ever replaced) and the
// events file (its folder must exist and be writable, the path must not be a folder).
#include "support/cli_run.hpp"
#include "support/daemon_process.hpp"
#include "support/netns.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

void writeConfig(const std::filesystem::path& cfg, const std::filesystem::path& socket, const std::string& events) {
    std::ofstream(cfg) << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\ncontrol_socket = \"" << socket.string()
                       << "\"\n[output]\nevents = \"" << events << "\"\n[interface.lo]\nclassifier = \"fizz\"\n";
}

}  // namespace

TEST_CASE("fizzhost check names the plugin and the version it loaded once, however the config names it", "[bpf]") {
    if (!requirePrivilege("fizzhost check (BPF)")) return;
    NetNs ns;
    TempDir dir;
    const auto cfg = dir.path() / "fizz.toml";
    std::ofstream(cfg) << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\ncontrol_socket = \""
                       << (dir.path() / "c.sock").string() << "\"\n[interface.lo]\nclassifier = \"fizz@1.0.0\"\n";
    auto run = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    INFO(run.err);
    CHECK(run.status == 0);
    CHECK_THAT(run.err, Contains("interface 'lo': fizz 1.0.0 loads and verifies"));
}

TEST_CASE("fizzhost check reports an unsafe control socket folder and an unusable events path, all at once",
          "[bpf]") {
    if (!requirePrivilege("fizzhost check (chown, BPF)")) return;
    NetNs ns;
    TempDir dir;
    const auto cfg = dir.path() / "fizz.toml";
    const auto run = dir.path() / "run";
    std::filesystem::create_directory(run);

    writeConfig(cfg, run / "c.sock", (dir.path() / "events.jsonl").string());
    auto ok = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    CHECK(ok.status == 0);
    CHECK_THAT(ok.err, Contains("control_socket '" + (run / "c.sock").string() + "': OK"));
    CHECK_THAT(ok.err, Contains("events '" + (dir.path() / "events.jsonl").string() + "': OK"));

    REQUIRE(::chown(run.c_str(), 65534, 65534) == 0);  // nobody's folder
    writeConfig(cfg, run / "c.sock", dir.path().string());  // events = a folder
    auto bad = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    CHECK(bad.status == 1);
    CHECK_THAT(bad.err, Contains("its folder '" + run.string() + "' is owned by uid 65534, not root"));
    CHECK_THAT(bad.err, Contains("events '" + dir.path().string() + "' is a folder"));
    CHECK_THAT(bad.err, Contains("2 problem(s)"));

    REQUIRE(::chown(run.c_str(), 0, 0) == 0);
    writeConfig(cfg, run / "c.sock", (dir.path() / "nowhere" / "events.jsonl").string());
    auto noFolder = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    CHECK(noFolder.status == 1);
    CHECK_THAT(noFolder.err, Contains("its folder '" + (dir.path() / "nowhere").string() + "'"));
    CHECK_THAT(noFolder.err, Contains("ENOENT"));
}

TEST_CASE("the daemon refuses to start on a control socket path holding a file or in an unsafe folder, and "
          "deletes nothing",
          "[bpf]") {
    if (!requirePrivilege("run fizzhost (chown, XDP)")) return;
    NetNs ns;
    TempDir dir;
    const auto cfg = dir.path() / "fizz.toml";
    const auto socket = dir.path() / "c.sock";
    const auto events = (dir.path() / "events.jsonl").string();

    std::ofstream(socket) << "precious\n";
    writeConfig(cfg, socket, events);
    auto file = runFizzhost({"--config", cfg.string()}, ns.name());
    CHECK(file.status == 1);
    CHECK_THAT(file.err, Contains("holds a regular file, not a socket"));
    CHECK_FALSE(file.err.find("attached") != std::string::npos);  // refused before attaching anything
    CHECK(std::filesystem::is_regular_file(socket));
    std::filesystem::remove(socket);

    const auto shared = dir.path() / "shared";
    std::filesystem::create_directory(shared);
    REQUIRE(::chmod(shared.c_str(), 0777) == 0);
    writeConfig(cfg, shared / "c.sock", events);
    auto open = runFizzhost({"--config", cfg.string()}, ns.name());
    CHECK(open.status == 1);
    CHECK_THAT(open.err, Contains("is writable by others (mode 0777)"));
}

TEST_CASE("a config owned by another user is refused, or loaded with a warning under --allow-insecure-plugins",
          "[bpf]") {
    if (!requirePrivilege("fizzhost check (chown, BPF)")) return;
    NetNs ns;
    TempDir dir;
    const auto cfg = dir.path() / "fizz.toml";
    writeConfig(cfg, dir.path() / "c.sock", "-");
    REQUIRE(::chown(cfg.c_str(), 65534, 65534) == 0);
    auto refused = runFizzhost({"check", "--config", cfg.string()}, ns.name());
    CHECK(refused.status == 1);
    CHECK_THAT(refused.err, Contains("config file '" + cfg.string() + "' is owned by uid 65534, not root; the rule:"));
    auto insecure = runFizzhost({"check", "--config", cfg.string(), "--allow-insecure-plugins"}, ns.name());
    CHECK(insecure.status == 0);
    CHECK_THAT(insecure.err, Contains("INSECURE: config file '" + cfg.string() + "' is owned by uid 65534"));
    // The daemon applies the same rule.
    auto daemon = runFizzhost({"--config", cfg.string()}, ns.name());
    CHECK(daemon.status == 1);
    CHECK_THAT(daemon.err, Contains("config file '" + cfg.string() + "' is owned by uid 65534"));
}
