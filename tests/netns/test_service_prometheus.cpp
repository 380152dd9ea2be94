// A real Prometheus server scrapes the real daemon on a veth pair. Both run in the lab's host
// namespace, so the daemon's metrics listener on that namespace's loopback is reachable by
// Prometheus and nothing else; the test asks Prometheus's HTTP API from inside it with curl. Once
// in plain HTTP, once over TLS with basic auth (certificates and the bcrypt hash made by the test).
#include "netns/daemon_lab.hpp"
#include "support/privilege.hpp"
#include "support/tls_material.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <iostream>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

constexpr const char* kMetricsListen = "127.0.0.1:9464";
constexpr const char* kPrometheusListen = "127.0.0.1:9090";

// Runs Prometheus with a scrape config for the daemon and private storage; killed on scope exit.
class PrometheusServer {
public:
    /// `jobs`: the scrape_configs entries; by default one plain HTTP job "fizzhost".
    PrometheusServer(const NetNs& ns, const std::filesystem::path& dir, const std::string& jobs = job("fizzhost", ""))
        : ns_(ns.name()) {
        const auto config = dir / "prometheus.yml";
        std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                              << "scrape_configs:\n" << jobs;
        std::filesystem::create_directory(dir / "tsdb");
        process_.emplace(std::vector<std::string>{"prometheus", "--config.file=" + config.string(),
                                                  "--storage.tsdb.path=" + (dir / "tsdb").string(),
                                                  "--web.listen-address=" + std::string(kPrometheusListen)},
                         dir, ns.name());
        if (!process_->waitForStderr("Server is ready to receive web requests", std::chrono::seconds(60)))
            FAIL("prometheus did not start:\n" << process_->stderrText());
    }

    /// One scrape_configs entry for the daemon's endpoint; `more` is indented YAML (scheme, tls_config, ...).
    static std::string job(const std::string& name, const std::string& more = "") {
        return "  - job_name: " + name + "\n" + more + "    static_configs:\n      - targets: ['" + kMetricsListen + "']\n";
    }

    /// The result vector of an instant query, via the HTTP API.
    nlohmann::json query(const std::string& promql) const {
        auto r = run({"ip", "netns", "exec", ns_, "curl", "-sS", "--max-time", "5", "-G", "--data-urlencode",
                      "query=" + promql, std::string("http://") + kPrometheusListen + "/api/v1/query"});
        auto j = nlohmann::json::parse(r.out);
        REQUIRE(j["status"] == "success");
        return j["data"]["result"];
    }

    /// The single value of `promql`, waiting (bounded) until it equals `want`; returns the last seen.
    std::optional<double> waitForValue(const std::string& promql, double want, std::chrono::seconds timeout) const {
        std::optional<double> last;
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto result = query(promql);
            if (result.size() == 1) last = std::stod(result[0]["value"][1].get<std::string>());
            if (last == want) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
        }
        return last;
    }

private:
    std::string ns_;
    std::optional<DaemonProcess> process_;
};

}  // namespace

TEST_CASE("a real Prometheus server scrapes the daemon and sees exactly the frames sent", "[daemon]") {
    if (!requirePrivilege("run fizzhost and Prometheus in a namespace")) return;
    DaemonLab lab;
    lab.writeConfig("[metrics]\nlisten = \"" + std::string(kMetricsListen) + "\"\n[interface." + lab.ifname() +
                    "]\nclassifier = \"fizzbuzz\"\n");
    lab.start();
    REQUIRE(lab.daemon().waitForStderr("metrics: serving http://127.0.0.1:9464/metrics", std::chrono::seconds(5)));
    std::filesystem::create_directory(lab.dir() / "prometheus");
    PrometheusServer prometheus(lab.hostNs(), lab.dir() / "prometheus");

    REQUIRE(prometheus.waitForValue("up{job=\"fizzhost\"}", 1, std::chrono::seconds(30)) == 1.0);
    const size_t sent = lab.send(benchmarkSources(0, 3000));
    REQUIRE(lab.waitForPackets(sent) == sent);
    const std::string packets =
        "sum(fizzhost_packets_total{interface=\"" + lab.ifname() + "\",plugin=\"fizzbuzz\",variant=\"baseline\"})";
    CHECK(prometheus.waitForValue(packets, double(sent), std::chrono::seconds(30)) == double(sent));

    // The per-kind counts Prometheus stored add up to the messages the host counted.
    const auto ifc = lab.interfaceStatus();
    CHECK(prometheus.waitForValue("sum(fizzhost_messages_total{interface=\"" + lab.ifname() + "\"})",
                                  ifc["variants"][0]["emitted"].get<double>(), std::chrono::seconds(10)) ==
          ifc["variants"][0]["emitted"].get<double>());
    CHECK(prometheus.waitForValue("fizzhost_build_info", 1, std::chrono::seconds(10)) == 1.0);

    // A reload shows as a success and a duration sample.
    REQUIRE(lab.reload());
    CHECK(prometheus.waitForValue("fizzhost_reloads_total{result=\"success\"}", 1, std::chrono::seconds(30)) == 1.0);
    CHECK(prometheus.waitForValue("fizzhost_reload_duration_seconds_count", 1, std::chrono::seconds(10)) == 1.0);

    // What a scrape costs, as Prometheus measured it (reported, never asserted).
    auto took = prometheus.query("avg_over_time(scrape_duration_seconds{job=\"fizzhost\"}[1m])");
    if (took.size() == 1)
        std::cout << "metrics scrape: " << std::stod(took[0]["value"][1].get<std::string>()) * 1e3
                  << " ms on average as measured by Prometheus" << std::endl;
}

TEST_CASE("a real Prometheus server scrapes the daemon over TLS with basic auth, and a wrong login or plain HTTP "
          "gets nothing",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost and Prometheus in a namespace")) return;
    DaemonLab lab;
    const TlsMaterial tls = makeTlsMaterial(lab.dir());
    std::ofstream(lab.dir() / "web.yml") << "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                                         << "basic_auth_users:\n  prometheus: " << bcryptHash("s3cret") << "\n";
    lab.writeConfig("[metrics]\nlisten = \"" + std::string(kMetricsListen) + "\"\nweb_config = \"" +
                    (lab.dir() / "web.yml").string() + "\"\n[interface." + lab.ifname() + "]\nclassifier = \"fizzbuzz\"\n");
    lab.start();
    REQUIRE(lab.daemon().waitForStderr("metrics: serving https://127.0.0.1:9464/metrics", std::chrono::seconds(5)));
    CHECK(lab.daemon().waitForStderr("TLS (client certificates: NoClientCert), basic auth (1 user(s))",
                                     std::chrono::seconds(1)));
    std::filesystem::create_directory(lab.dir() / "prometheus");
    const std::string tlsConfig = "    scheme: https\n    tls_config:\n      ca_file: " + tls.caCert.string() + "\n";
    PrometheusServer prometheus(
        lab.hostNs(), lab.dir() / "prometheus",
        PrometheusServer::job("fizzhost", tlsConfig + "    basic_auth:\n      username: prometheus\n      password: s3cret\n") +
            PrometheusServer::job("intruder", tlsConfig + "    basic_auth:\n      username: prometheus\n      password: guess\n") +
            PrometheusServer::job("plain"));

    REQUIRE(prometheus.waitForValue("up{job=\"fizzhost\"}", 1, std::chrono::seconds(30)) == 1.0);
    const size_t sent = lab.send(benchmarkSources(0, 3000));
    REQUIRE(lab.waitForPackets(sent) == sent);
    CHECK(prometheus.waitForValue("sum(fizzhost_packets_total{job=\"fizzhost\",interface=\"" + lab.ifname() + "\"})",
                                  double(sent), std::chrono::seconds(30)) == double(sent));
    CHECK(prometheus.waitForValue("up{job=\"intruder\"}", 0, std::chrono::seconds(10)) == 0.0);
    CHECK(prometheus.waitForValue("up{job=\"plain\"}", 0, std::chrono::seconds(10)) == 0.0);
    CHECK(prometheus.query("fizzhost_build_info{job=\"intruder\"}").empty());
    CHECK(prometheus.query("fizzhost_build_info{job=\"plain\"}").empty());

    // A reload with a web config that does not parse is refused and the running one stays.
    std::ofstream(lab.dir() / "web.yml") << "tls_server_config:\n  cert_file: server.crt\n  cipher_suites: [x]\n";
    CHECK_FALSE(lab.reload());
    CHECK(lab.daemon().waitForStderr("web.yml:3:3: tls_server_config.cipher_suites: 'cipher_suites' is not supported",
                                     std::chrono::seconds(5)));
    CHECK(prometheus.waitForValue("fizzhost_reloads_total{job=\"fizzhost\",result=\"failure\"}", 1,
                                  std::chrono::seconds(30)) == 1.0);
    CHECK(prometheus.waitForValue("up{job=\"fizzhost\"}", 1, std::chrono::seconds(10)) == 1.0);
}
