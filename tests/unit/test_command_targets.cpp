// `reload`, `status` and `detach` with --config FILE talk to that file's control socket and state
// root, or fail with the file's own error; only with no config at all do they fall back to the
// defaults, and each says which socket (or state root) it talks to. A broken file must never send
// the command to whatever host listens on the default socket. The real binary, no host running.
#include "cli/commands.hpp"
#include "config/host_config.hpp"
#include "support/cli_run.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

std::filesystem::path writeFile(const TempDir& dir, const std::string& name, const std::string& text) {
    const auto path = dir.path() / name;
    std::ofstream(path) << text;
    return path;
}

}  // namespace

TEST_CASE("reload, status and detach with a broken --config fail with the file's error and ask no host", "[unit]") {
    TempDir dir;
    const auto socket = dir.path() / "control.sock";
    // Line 3, column 1: a key the loader does not know.
    const auto broken = writeFile(dir, "broken.toml",
                                  "plugin_dir = \"" + std::string(FIZZHOST_PLUGIN_DIR) + "\"\ncontrol_socket = \"" +
                                      socket.string() + "\"\nqueue_sise = 4096\n");
    const std::string defaultSocket = config::HostConfig{}.controlSocket.string();
    const std::string defaultRoot = config::HostConfig{}.service.stateRoot.string();
    for (const auto& args : std::vector<std::vector<std::string>>{{"reload", "--config", broken.string()},
                                                                   {"status", "--config", broken.string()},
                                                                   {"detach", "--all", "--config", broken.string()}}) {
        INFO(args[0]);
        const CliRun run = runFizzhost(args);
        CHECK(run.status == 1);
        CHECK_THAT(run.err, Contains(broken.string() + ":3:1") && Contains("queue_sise"));
        CHECK_THAT(run.err, Contains(args[0] == "detach" ? "nothing was detached" : "no host was asked"));
        // Neither the default socket nor the default state root was so much as named as a target.
        CHECK_THAT(run.err, !Contains("'" + defaultSocket + "'") && !Contains("'" + defaultRoot + "'"));
        CHECK(run.out.empty());
    }
    // The library's answer: the file's error, never the default socket.
    CHECK_THROWS_WITH(cli::controlSocketFor(broken.string(), "", "reload"),
                      Contains(broken.string() + ":3:1") && Contains("no host was asked"));
}

TEST_CASE("reload and status with a good --config use its socket and say so; with none, the default", "[unit]") {
    TempDir dir;
    const auto socket = dir.path() / "control.sock";  // nobody listens there
    const auto good = writeFile(dir, "good.toml",
                                "plugin_dir = \"" + std::string(FIZZHOST_PLUGIN_DIR) + "\"\ncontrol_socket = \"" +
                                    socket.string() + "\"\n[interface.fzt-none]\nclassifier = \"fizz\"\n");
    for (const char* command : {"reload", "status"}) {
        INFO(command);
        const CliRun run = runFizzhost({command, "--config", good.string()});
        CHECK(run.status != 0);  // no host there
        CHECK_THAT(run.err, Contains(std::string(command) + ": control socket '" + socket.string() + "' (from " +
                                     good.string() + ")"));
    }
    CHECK(cli::controlSocketFor(good.string(), "", "reload") == socket);
    CHECK(cli::controlSocketFor("", "/x/y.sock", "reload") == "/x/y.sock");
    CHECK(cli::controlSocketFor("", "", "reload") == config::HostConfig{}.controlSocket);
    const CliRun none = runFizzhost({"status", "--socket", socket.string()});
    CHECK_THAT(none.err, Contains("status: control socket '" + socket.string() + "' (--socket)"));
}
