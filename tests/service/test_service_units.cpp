// The service layer without a kernel: the status -> Prometheus translation, the real /metrics
// endpoint checked by promtool, the [metrics] and [service] config tables, the config watch, the
// notify protocol against a real datagram socket.
#include "config/config_loader.hpp"
#include "runtime/status/status_json.hpp"
#include "service/config_watch.hpp"
#include "service/metrics_exporter.hpp"
#include "service/notifier.hpp"
#include "service/status_view.hpp"
#include "support/daemon_process.hpp"
#include "support/netns.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <poll.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdlib>
#include <cstring>

#include <fstream>
#include <map>
#include <optional>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

// A status document in the shape the control socket answers: one interface running a lone
// classifier, one in a rollout, and a variant that left (its counts remain, its plugin is gone).
const nlohmann::json kStatusJson = nlohmann::json::parse(R"({
  "run_time_stats": true,
  "events_written": 42,
  "events_lost": 5,
  "write_errors": 3,
  "interfaces": [
    {"name": "eth0", "mode": "native", "link_id": 7, "program_id": 70, "ns_per_run": 50.0, "runs": 1000,
     "variants": [
       {"variant": "baseline", "plugin": "fizzbuzz", "version": "1.0.0", "abi": "1.1", "program_id": 70, "packets": 1000,
        "emitted": 30, "dropped": 2, "delivered": 23, "write_lost": 5, "undecodable": 1, "ns_per_run": 50.0,
        "kinds": {"Fizz": 20, "Buzz": 8, "FizzBuzz": 2}}]},
    {"name": "eth1", "mode": "generic", "link_id": 8, "program_id": 81, "ns_per_run": 100.0, "runs": 400,
     "percent": 25,
     "variants": [
       {"variant": "baseline", "plugin": "fizz", "version": "1.0.0", "abi": "1.0", "program_id": 80, "packets": 300,
        "emitted": 3, "dropped": 0, "delivered": 3, "undecodable": 0, "kinds": {"Fizz": 3}},
       {"variant": "candidate", "plugin": null, "packets": 100, "emitted": 1, "dropped": 0, "kinds": {}}]}
  ]})");
const runtime::HostStatus kStatus = runtime::hostStatusFromJson(kStatusJson);

using LabelMap = std::map<std::string, std::string>;

// The sample of family `name` whose labels are exactly `labels`, or nullopt.
std::optional<double> sample(const std::vector<prometheus::MetricFamily>& families, const std::string& name,
                             const LabelMap& labels) {
    for (const auto& f : families) {
        if (f.name != name) continue;
        for (const auto& m : f.metric) {
            LabelMap got;
            for (const auto& l : m.label) got[l.name] = l.value;
            if (got != labels) continue;
            return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
        }
    }
    return std::nullopt;
}

size_t seriesOf(const std::vector<prometheus::MetricFamily>& families, const std::string& name) {
    for (const auto& f : families)
        if (f.name == name) return f.metric.size();
    return 0;
}

LabelMap variant(const std::string& iface, const std::string& v, const std::string& plugin, const std::string& version) {
    return {{"interface", iface}, {"variant", v}, {"plugin", plugin}, {"version", version}};
}

// `promtool check metrics` over an exposition; returns its status and what it said.
CommandResult promtoolCheck(const std::string& exposition) {
    TempDir dir;
    const auto file = dir.path() / "metrics.txt";
    std::ofstream(file) << exposition;
    return runUnchecked({"sh", "-c", "promtool check metrics < \"$1\" 2>&1", "promtool", file.string()});
}

}  // namespace

TEST_CASE("status counters become Prometheus families labelled interface, variant, plugin, version", "[unit]") {
    const auto f = service::statusMetrics(kStatus);
    const auto eth0 = variant("eth0", "baseline", "fizzbuzz", "1.0.0");
    CHECK(sample(f, "fizzhost_packets_total", eth0) == 1000);
    CHECK(sample(f, "fizzhost_messages_dropped_total", eth0) == 2);
    CHECK(sample(f, "fizzhost_messages_undecodable_total", eth0) == 1);
    CHECK(sample(f, "fizzhost_events_written_total", eth0) == 23);
    // Events the output failed to write, per variant, and the failed writes of the one output.
    CHECK(sample(f, "fizzhost_events_lost_total", eth0) == 5);
    CHECK(sample(f, "fizzhost_events_write_errors_total", {}) == 3);
    auto withKind = eth0;
    withKind["kind"] = "Buzz";
    CHECK(sample(f, "fizzhost_messages_total", withKind) == 8);
    // A lone classifier is the attached program: the kernel's run figures are its own.
    CHECK(sample(f, "fizzhost_program_runs_total", eth0) == 1000);
    CHECK(sample(f, "fizzhost_program_run_seconds_total", eth0) == Approx(1000 * 50e-9));
    CHECK(sample(f, "fizzhost_rollout_percent", {{"interface", "eth0"}}) == 0);

    // Behind the dispatcher the kernel accounts the dispatcher, not a variant.
    CHECK(sample(f, "fizzhost_rollout_percent", {{"interface", "eth1"}}) == 25);
    CHECK(sample(f, "fizzhost_packets_total", variant("eth1", "baseline", "fizz", "1.0.0")) == 300);
    CHECK(sample(f, "fizzhost_packets_total", variant("eth1", "candidate", "", "")) == 100);
    CHECK_FALSE(sample(f, "fizzhost_program_runs_total", variant("eth1", "baseline", "fizz", "1.0.0")));
    CHECK(sample(f, "fizzhost_program_runs_total", variant("eth1", "dispatcher", "", "")) == 400);
    CHECK(sample(f, "fizzhost_program_run_seconds_total", variant("eth1", "dispatcher", "", "")) ==
          Approx(400 * 100e-9));
    // A variant that left has no decoder: no undecodable or written series are made up for it.
    CHECK_FALSE(sample(f, "fizzhost_events_written_total", variant("eth1", "candidate", "", "")));

    CHECK(sample(f, "fizzhost_plugin_info", {{"plugin", "fizzbuzz"}, {"version", "1.0.0"}, {"abi", "1.1"}}) == 1);
    CHECK(sample(f, "fizzhost_plugin_info", {{"plugin", "fizz"}, {"version", "1.0.0"}, {"abi", "1.0"}}) == 1);
    CHECK(seriesOf(f, "fizzhost_plugin_info") == 2);
}

TEST_CASE("metric families are rebuilt from each status: a swapped-out version leaves no series", "[unit]") {
    auto next = kStatus;
    next.interfaces[0].variants[0].plugin = "fibonacci";
    next.interfaces[0].variants[0].counts.kinds = {{"Fib", 5}};
    next.interfaces.erase(next.interfaces.begin() + 1);
    const auto f = service::statusMetrics(next);
    CHECK_FALSE(sample(f, "fizzhost_packets_total", variant("eth0", "baseline", "fizzbuzz", "1.0.0")));
    CHECK(sample(f, "fizzhost_packets_total", variant("eth0", "baseline", "fibonacci", "1.0.0")) == 1000);
    CHECK(seriesOf(f, "fizzhost_messages_total") == 1);
    CHECK(seriesOf(f, "fizzhost_rollout_percent") == 1);
    CHECK(seriesOf(f, "fizzhost_plugin_info") == 1);
    // Without the kernel's run-time statistics no run figures are invented.
    next.runTimeStats = false;
    CHECK(seriesOf(service::statusMetrics(next), "fizzhost_program_runs_total") == 0);
    CHECK(service::statusMetrics(runtime::HostStatus{}).empty());
}

TEST_CASE("the status line names what runs on each interface", "[unit]") {
    CHECK(service::statusLine(kStatus) == "eth0: fizzbuzz 1.0.0; eth1: fizz 1.0.0 at 25%");
}

TEST_CASE("the exposition of the status passes promtool check metrics", "[unit]") {
    const std::string text = prometheus::TextSerializer().Serialize(service::statusMetrics(kStatus));
    auto r = promtoolCheck(text);
    INFO(text << "\npromtool: " << r.out);
    CHECK(r.status == 0);
    CHECK(r.out.empty());  // lint findings are printed even when the status is 0
    // The check can fail: a counter without _total is what promtool flags.
    auto bad = promtoolCheck("# HELP fizzhost_packets Frames\n# TYPE fizzhost_packets counter\nfizzhost_packets 1\n");
    CHECK((bad.status != 0 || !bad.out.empty()));
}

TEST_CASE("the /metrics endpoint serves status, reloads and build info, and promtool accepts it", "[unit]") {
    size_t scrapes = 0;
    service::MetricsExporter exporter("127.0.0.1:0", [&] {
        ++scrapes;
        return kStatus;
    });
    REQUIRE(exporter.port() > 0);
    exporter.recordReload(true, std::chrono::milliseconds(8));
    exporter.recordReload(false, std::chrono::milliseconds(300));
    const auto url = "http://127.0.0.1:" + std::to_string(exporter.port()) + "/metrics";
    auto body = run({"curl", "-sSf", "--max-time", "10", url}).out;
    INFO(body);
    CHECK(scrapes == 1);
    CHECK_THAT(body, Contains("fizzhost_reloads_total{result=\"success\"} 1"));
    CHECK_THAT(body, Contains("fizzhost_reloads_total{result=\"failure\"} 1"));
    CHECK_THAT(body, Contains("fizzhost_reload_duration_seconds_count 2"));
    CHECK_THAT(body, Contains("fizzhost_reload_duration_seconds_bucket{le=\"0.01\"} 1"));
    CHECK_THAT(body, Contains("fizzhost_build_info{version=\"" FIZZHOST_VERSION "\"} 1"));
    CHECK_THAT(body, Contains("fizzhost_packets_total{"));
    auto r = promtoolCheck(body);
    INFO("promtool: " << r.out);
    CHECK(r.status == 0);
    CHECK(r.out.empty());

    // A port already taken is an error naming the setting.
    const std::string taken = "127.0.0.1:" + std::to_string(exporter.port());
    CHECK_THROWS_WITH(service::MetricsExporter(taken, [] { return runtime::HostStatus{}; }),
                      Contains("[metrics] listen = \"" + taken + "\""));
}

TEST_CASE("[metrics] and [service] tables: defaults, values and errors with a position", "[unit]") {
    const std::string iface = "[interface.eth0]\nclassifier = \"fizz\"\n";
    auto def = config::parseConfig(iface, "fizz.toml", "/p");
    CHECK_FALSE(def.metrics.listen);
    CHECK_FALSE(def.service.watchConfig);
    auto set = config::parseConfig(
        iface + "[metrics]\nlisten = \"127.0.0.1:9464\"\n[service]\nwatch_config = true\n", "fizz.toml", "/p");
    CHECK(set.metrics.listen == "127.0.0.1:9464");
    CHECK(set.service.watchConfig);
    CHECK(config::parseConfig(iface + "[metrics]\nlisten = \"[::1]:0\"\n", "f.toml", "/p").metrics.listen == "[::1]:0");
    // No host: this machine only. All addresses are asked for in so many words.
    CHECK(config::parseConfig(iface + "[metrics]\nlisten = \":9464\"\n", "f.toml", "/p").metrics.listen == "127.0.0.1:9464");
    CHECK(config::parseConfig(iface + "[metrics]\nlisten = \"0.0.0.0:9464\"\n", "f.toml", "/p").metrics.listen == "0.0.0.0:9464");
    CHECK(config::parseConfig(iface + "[metrics]\nlisten = \"[::]:9464\"\n", "f.toml", "/p").metrics.listen == "[::]:9464");
    CHECK(def.metrics.maxConnections == 64);
    CHECK_FALSE(def.metrics.webConfig);
    auto web = config::parseConfig(iface + "[metrics]\nlisten = \":9\"\nweb_config = \"web.yml\"\nmax_connections = 8\n",
                                   "/etc/fizz/f.toml", "/p");
    CHECK(web.metrics.webConfig == "/etc/fizz/web.yml");
    CHECK(web.metrics.maxConnections == 8);
    for (const char* bad : {"9464", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:http", "[::1:9464", "localhost:9464",
                            "::1:9464", "[127.0.0.1]:9464", "1.2.3:9464"}) {
        INFO(bad);
        CHECK_THROWS_WITH(config::parseConfig(iface + "[metrics]\nlisten = \"" + bad + "\"\n", "f.toml", "/p"),
                          Contains("f.toml:") && Contains("metrics.listen") && Contains("ADDRESS:PORT"));
    }
    CHECK_THROWS_WITH(config::parseConfig(iface + "[metrics]\nmax_connections = 0\n", "f.toml", "/p"),
                      Contains("metrics.max_connections") && Contains("out of range 1..4096"));
    CHECK_THROWS_WITH(config::parseConfig(iface + "[service]\nwatch_conifg = true\n", "f.toml", "/p"),
                      Contains("did you mean 'watch_config'"));
    CHECK_THROWS_WITH(config::parseConfig(iface + "[service]\nwatch_config = 1\n", "f.toml", "/p"),
                      Contains("expected a boolean"));
}

TEST_CASE("the config watch sees a kubelet-style ..data swap, a rename over the file and an in-place write, "
          "and ignores touches that change nothing",
          "[unit]") {
    TempDir dir;
    namespace fs = std::filesystem;
    auto writeVersion = [&](const std::string& stamp, const std::string& text) {
        fs::create_directory(dir.path() / stamp);
        std::ofstream(dir.path() / stamp / "fizzhost.toml") << text;
    };
    // The layout the kubelet makes: config -> ..data/config, ..data -> ..<timestamp>.
    writeVersion("..2026_11_25_14_00_00.1", "one");
    fs::create_directory_symlink("..2026_11_25_14_00_00.1", dir.path() / "..data");
    fs::create_symlink("..data/fizzhost.toml", dir.path() / "fizzhost.toml");
    service::ConfigWatch watch(dir.path() / "fizzhost.toml");
    CHECK_FALSE(watch.changed());

    // The swap: new folder, a temporary symlink renamed over ..data, the old folder removed.
    writeVersion("..2026_11_25_14_05_00.2", "two");
    fs::create_directory_symlink("..2026_11_25_14_05_00.2", dir.path() / "..data_tmp");
    fs::rename(dir.path() / "..data_tmp", dir.path() / "..data");
    fs::remove_all(dir.path() / "..2026_11_25_14_00_00.1");
    CHECK(watch.changed());
    CHECK_FALSE(watch.changed());

    // An edit inside the folder ..data points at now (the real file's folder is watched too).
    std::ofstream(dir.path() / "..2026_11_25_14_05_00.2" / "fizzhost.toml") << "three";
    CHECK(watch.changed());

    // The same content again: no change.
    std::ofstream(dir.path() / "..2026_11_25_14_05_00.2" / "fizzhost.toml") << "three";
    CHECK_FALSE(watch.changed());

    // A plain file renamed over the config, then written in place.
    std::ofstream(dir.path() / "new.toml") << "four";
    fs::rename(dir.path() / "new.toml", dir.path() / "fizzhost.toml");
    CHECK(watch.changed());
    std::ofstream(dir.path() / "fizzhost.toml", std::ios::trunc) << "five";
    CHECK(watch.changed());
    // The file gone: no change until it is back.
    fs::remove(dir.path() / "fizzhost.toml");
    CHECK_FALSE(watch.changed());
    std::ofstream(dir.path() / "fizzhost.toml") << "five";
    CHECK_FALSE(watch.changed());
}

TEST_CASE("the notifier speaks sd_notify to NOTIFY_SOCKET and derives the watchdog period", "[unit]") {
    TempDir dir;
    const auto path = dir.path() / "notify.sock";
    UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(sock);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    REQUIRE(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    auto receive = [&]() -> std::string {
        pollfd p{sock.get(), POLLIN, 0};
        if (::poll(&p, 1, 2000) != 1) return "(nothing)";
        char buf[1024];
        ssize_t n = ::recv(sock.get(), buf, sizeof buf, 0);
        return n < 0 ? "(error)" : std::string(buf, size_t(n));
    };

    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    ::setenv("WATCHDOG_USEC", "3000000", 1);
    ::unsetenv("WATCHDOG_PID");
    service::Notifier notifier;
    CHECK(notifier.watchdogInterval() == std::chrono::microseconds(1500000));
    notifier.ready("eth0: fizz 1.0.0");
    CHECK(receive() == "READY=1\nSTATUS=eth0: fizz 1.0.0");
    notifier.reloading();
    CHECK_THAT(receive(), Catch::Matchers::StartsWith("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC="));
    notifier.watchdog();
    CHECK(receive() == "WATCHDOG=1");
    notifier.stopping();
    CHECK(receive() == "STOPPING=1\nSTATUS=stopping");
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");

    // Without NOTIFY_SOCKET nothing is sent and there is no watchdog.
    service::Notifier silent;
    CHECK_FALSE(silent.watchdogInterval());
    silent.ready("x");
    pollfd p{sock.get(), POLLIN, 0};
    CHECK(::poll(&p, 1, 100) == 0);
}
