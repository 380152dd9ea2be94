// `[service] watch_config = true` with the real daemon and the exact update the kubelet makes to a
// ConfigMap volume: the config file is a symlink through `..data`, and an update writes a new
// timestamped folder, points a temporary symlink at it, renames that over `..data` and removes the
// old folder. No signal is sent.
#include "netns/daemon_lab.hpp"
#include "support/privilege.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// A ConfigMap volume as the kubelet lays it out, holding one key, fizzhost.toml.
class ConfigMapVolume {
public:
    explicit ConfigMapVolume(fs::path dir) : dir_(std::move(dir)) { fs::create_directory(dir_); }
    fs::path file() const { return dir_ / "fizzhost.toml"; }

    /// The kubelet's atomic update (pkg/volume/util/atomic_writer.go): write, swap ..data, clean up.
    void publish(const std::string& content) {
        const std::string stamp = "..2026_11_25_15_00_00." + std::to_string(++version_);
        fs::create_directory(dir_ / stamp);
        std::ofstream(dir_ / stamp / "fizzhost.toml") << content;
        fs::create_directory_symlink(stamp, dir_ / "..data_tmp");
        fs::rename(dir_ / "..data_tmp", dir_ / "..data");
        if (!current_.empty()) fs::remove_all(dir_ / current_);
        current_ = stamp;
        if (!fs::is_symlink(file())) fs::create_symlink("..data/fizzhost.toml", file());
    }

private:
    fs::path dir_;
    std::string current_;
    int version_ = 0;
};

std::string readFile(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("watch_config reloads the daemon when the kubelet swaps the ConfigMap's ..data symlink", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    ConfigMapVolume volume(lab.dir() / "config");
    auto configWith = [&](const std::string& classifier) {
        lab.writeConfig("[service]\nwatch_config = true\n[interface." + lab.ifname() + "]\nclassifier = \"" +
                        classifier + "\"\n");
        return readFile(lab.configPath());
    };
    volume.publish(configWith("fizzbuzz"));
    DaemonProcess daemon({FIZZHOST_BINARY, "--config", volume.file().string()}, lab.dir(), lab.hostNs().name());
    REQUIRE(daemon.waitForStderr("fizzhost running", std::chrono::seconds(20)));
    INFO(daemon.stderrText());
    const auto before = lab.interfaceStatus();
    REQUIRE(before["variants"][0]["plugin"] == "fizzbuzz");

    // An update: the daemon reloads by itself, on the same link, with a new program.
    volume.publish(configWith("fibonacci"));
    REQUIRE(daemon.waitForStderr("config file changed: reloading", std::chrono::seconds(10)));
    REQUIRE(daemon.waitForStderr("reload complete", std::chrono::seconds(30)));
    const auto after = lab.interfaceStatus();
    CHECK(after["variants"][0]["plugin"] == "fibonacci");
    CHECK(after["link_id"] == before["link_id"]);
    CHECK(after["program_id"] != before["program_id"]);
    CHECK(lab.attachedProgramId() == after["program_id"].get<uint32_t>());
    const size_t sent = lab.send(benchmarkSources(0, 50));
    CHECK(lab.waitForPackets(sent) >= sent);

    // The kubelet re-publishing the same data changes nothing.
    volume.publish(configWith("fibonacci"));
    CHECK(holdsFor([&] { return countOccurrences(daemon.stderrText(), "config file changed") == 1; },
                   std::chrono::seconds(1)));

    // A broken update is refused and the running classifier stays; the next good one applies.
    volume.publish("this is not toml ===");
    REQUIRE(daemon.waitForStderr("reload failed", std::chrono::seconds(10)));
    CHECK(lab.interfaceStatus()["program_id"] == after["program_id"]);
    volume.publish(configWith("fizz"));
    REQUIRE(daemon.waitForStderr("reload complete", std::chrono::seconds(30), 2));
    CHECK(lab.interfaceStatus()["variants"][0]["plugin"] == "fizz");
    CHECK_THAT(daemon.stderrText(), !Contains("take effect at the next start"));

    // Keys read once at start: a change is applied to the classifiers and named as pending.
    volume.publish(configWith("fizzbuzz") + "[metrics]\nlisten = \"127.0.0.1:0\"\n");
    REQUIRE(daemon.waitForStderr("reload complete", std::chrono::seconds(30), 3));
    CHECK(daemon.waitForStderr("[metrics] listen and [service] watch_config take effect at the next start",
                               std::chrono::seconds(5)));

    daemon.signal(SIGTERM);
    CHECK(daemon.waitExit(std::chrono::seconds(20)) == 0);
}

TEST_CASE("without watch_config a changed config file waits for SIGHUP", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
    lab.start();
    const auto before = lab.interfaceStatus();
    lab.writeConfig(interfaceTable(lab.ifname(), "fizzbuzz"));
    CHECK(holdsFor(
        [&] {
            return lab.interfaceStatus()["program_id"] == before["program_id"] &&
                   lab.daemon().stderrText().find("config file changed") == std::string::npos;
        },
        std::chrono::seconds(1), std::chrono::milliseconds(100)));
    CHECK_THAT(lab.daemon().stderrText(), !Contains("config file changed"));
}
