// `fizzhost reload` against the real daemon on a veth pair: it returns only once the reload
// finished, exits 0 when the new config is live and 1 with the reason when refused (the old
// classifier still classifying), 3 when no host answers and 4 on a timeout; status shows the last
// reload whatever triggered it, and the metrics count control-socket reloads with the others.
#include "netns/daemon_lab.hpp"
#include "support/cli_run.hpp"
#include "support/privilege.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <sys/un.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <regex>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

CliRun reloadVia(const std::filesystem::path& socket, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"reload", "--socket", socket.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return runFizzhost(args);
}

// The events of `sources` (sent after everything before them was delivered) come from `plugin`.
void classifiedBy(DaemonLab& lab, const std::string& plugin, uint32_t first) {
    const size_t before = lab.events().size();
    const uint64_t packets = lab.packetsCounted();
    const auto sent = lab.send(benchmarkSources(first, 60));
    REQUIRE(lab.waitForPackets(packets + sent) == packets + sent);
    const auto ifc = lab.interfaceStatus();
    REQUIRE(ifc["variants"][0]["plugin"] == plugin);
    const size_t want = lab.countedTotal("emitted");
    const auto events = lab.waitForEvents(want);
    REQUIRE(events.size() == want);
    REQUIRE(events.size() > before);
    for (size_t i = before; i < events.size(); ++i) CHECK(events[i].plugin == plugin);
}

double metricValue(const std::string& exposition, const std::string& series) {
    std::istringstream in(exposition);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
}

}  // namespace

TEST_CASE("fizzhost reload: exit 0 once the new config is live, 1 with the reason when refused, 3 with no host; "
          "status and metrics show control, SIGHUP and config-watch reloads",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const auto socket = lab.dir() / "control.sock";
    const std::string metrics = "[metrics]\nlisten = \"127.0.0.1:0\"\n";
    lab.writeConfig(metrics + interfaceTable(lab.ifname(), "fizz"));
    lab.start();
    CHECK(lab.status()["last_reload"].is_null());
    auto text = runFizzhost({"status", "--socket", socket.string()});
    CHECK_THAT(text.out, !Contains("last reload"));
    classifiedBy(lab, "fizz", 0);
    const uint32_t fizzProgram = lab.attachedProgramId();

    // Live: by the time the command returns, the new program is attached and in status.
    lab.writeConfig(metrics + interfaceTable(lab.ifname(), "fizzbuzz"));
    auto live = reloadVia(socket);
    INFO(live.err << lab.daemon().stderrText());
    CHECK(live.status == 0);
    CHECK_THAT(live.out, Contains("by control: success"));
    CHECK(lab.attachedProgramId() != fizzProgram);
    CHECK(lab.interfaceStatus()["variants"][0]["plugin"] == "fizzbuzz");
    auto last = lab.status()["last_reload"];
    CHECK(last["trigger"] == "control");
    CHECK(last["result"] == "success");
    CHECK_FALSE(last.contains("reason"));
    CHECK(last["duration_ms"].get<double>() > 0);
    CHECK(std::regex_match(last["time"].get<std::string>(), std::regex("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ")));
    classifiedBy(lab, "fizzbuzz", 100);
    const uint32_t fizzbuzzProgram = lab.attachedProgramId();

    // Refused: the reason on stderr and in status; fizzbuzz classifies on, same program.
    lab.writeConfig(metrics + interfaceTable(lab.ifname(), "nonexistent"));
    auto refused = reloadVia(socket);
    CHECK(refused.status == 1);
    CHECK_THAT(refused.err, Contains("reload refused") && Contains("unknown plugin 'nonexistent'"));
    CHECK(lab.attachedProgramId() == fizzbuzzProgram);
    last = lab.status()["last_reload"];
    CHECK(last["result"] == "refused");
    CHECK_THAT(last["reason"].get<std::string>(), Contains(lab.configPath().string() + ":7:14: interface '" +
                                                           lab.ifname() + "': unknown plugin 'nonexistent'"));
    classifiedBy(lab, "fizzbuzz", 200);

    // A config that does not parse: refused with the place, --json prints the host's record. The
    // client is given --config: it cannot read the file either, and falls back to the default
    // socket, so it is given --socket too.
    std::ofstream(lab.configPath()) << "plugin_dir = [broken\n";
    auto broken = reloadVia(socket, {"--json"});
    CHECK(broken.status == 1);
    auto record = nlohmann::json::parse(broken.out);
    CHECK(record["result"] == "refused");
    CHECK_THAT(record["reason"].get<std::string>(), Contains(lab.configPath().string() + ":1:"));
    CHECK(lab.attachedProgramId() == fizzbuzzProgram);

    // Found through --config: the client reads control_socket from the file.
    lab.writeConfig(metrics + interfaceTable(lab.ifname(), "fibonacci"));
    auto viaConfig = runFizzhost({"reload", "--config", lab.configPath().string()});
    CHECK(viaConfig.status == 0);
    CHECK(lab.interfaceStatus()["variants"][0]["plugin"] == "fibonacci");

    // Several at once (and a SIGHUP among them): served one after another, all answered.
    lab.writeConfig(metrics + interfaceTable(lab.ifname(), "fizz"));
    std::vector<CliRun> runs(3);
    {
        std::vector<std::thread> clients;
        for (auto& r : runs) clients.emplace_back([&] { r = reloadVia(socket); });
        lab.daemon().signal(SIGHUP);
        for (auto& c : clients) c.join();
    }
    for (const auto& r : runs) CHECK(r.status == 0);
    CHECK(lab.interfaceStatus()["variants"][0]["plugin"] == "fizz");
    classifiedBy(lab, "fizz", 300);

    // SIGHUP keeps working, and status says it was one.
    lab.writeConfig(metrics + interfaceTable(lab.ifname(), "fizzbuzz"));
    const size_t done = countOccurrences(lab.daemon().stderrText(), "reload complete");
    lab.daemon().signal(SIGHUP);
    REQUIRE(lab.daemon().waitForStderr("reload complete", std::chrono::seconds(30), done + 1));
    last = lab.status()["last_reload"];
    CHECK(last["trigger"] == "SIGHUP");
    CHECK(last["result"] == "success");
    text = runFizzhost({"status", "--socket", socket.string()});
    CHECK(std::regex_search(text.out, std::regex("last reload: \\S+Z by SIGHUP: success after [0-9.]+ ms\n")));

    // The metrics count every reload: the control ones, the SIGHUPs, the refused ones.
    std::smatch port;
    const auto log = lab.daemon().stderrText();
    REQUIRE(std::regex_search(log, port, std::regex("serving http://127\\.0\\.0\\.1:([0-9]+)/metrics \\(port ")));
    auto scrape = runUnchecked({"ip", "netns", "exec", lab.hostNs().name(), "curl", "-sS", "--max-time", "5",
                                "http://127.0.0.1:" + port[1].str() + "/metrics"});
    REQUIRE(scrape.status == 0);
    const size_t complete = countOccurrences(log, "reload complete");
    const size_t failed = countOccurrences(log, "reload failed");
    CHECK(complete >= 4);  // fizzbuzz, fibonacci, fizz (at least once), fizzbuzz
    CHECK(failed == 2);
    CHECK(metricValue(scrape.out, "fizzhost_reloads_total{result=\"success\"}") == double(complete));
    CHECK(metricValue(scrape.out, "fizzhost_reloads_total{result=\"failure\"}") == double(failed));
    CHECK(metricValue(scrape.out, "fizzhost_reload_duration_seconds_count") == double(complete + failed));

    // No host: exit 3, saying so.
    REQUIRE(lab.stop() == 0);
    auto none = reloadVia(socket);
    CHECK(none.status == 3);
    CHECK_THAT(none.err, Contains("no fizzhost answers there"));
}

TEST_CASE("fizzhost reload: exit 4 when the host does not answer in time", "[unit]") {
    TempDir dir;
    const auto path = dir.path() / "hung.sock";
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd.get(), 4) == 0);  // accepted by the kernel, never answered
    auto r = runFizzhost({"reload", "--socket", path.string(), "--timeout", "0.5"});
    CHECK(r.status == 4);
    CHECK_THAT(r.err, Contains("no answer within 0.5 s"));
}

TEST_CASE("a config-watch reload shows as such in status", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const std::string watch = "[service]\nwatch_config = true\n";
    lab.writeConfig(watch + interfaceTable(lab.ifname(), "fizz"));
    lab.start();
    lab.writeConfig(watch + interfaceTable(lab.ifname(), "fizzbuzz"));
    nlohmann::json last;
    REQUIRE(waitUntil([&] { return !(last = lab.status()["last_reload"]).is_null(); }, std::chrono::seconds(10),
                      std::chrono::milliseconds(50)));
    CHECK(last["trigger"] == "config watch");
    CHECK(last["result"] == "success");
    CHECK(lab.interfaceStatus()["variants"][0]["plugin"] == "fizzbuzz");
    CHECK(lab.stop() == 0);
}
