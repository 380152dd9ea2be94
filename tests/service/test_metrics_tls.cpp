// /metrics behind TLS and basic auth from a web config in the Prometheus exporter toolkit's format:
// certificates made by the test (openssl), bcrypt hashes made by the test (libxcrypt), curl as the
// client. Kernel-free.
#include "service/metrics_exporter.hpp"
#include "service/password_check.hpp"
#include "service/web_config.hpp"
#include "support/daemon_process.hpp"
#include "support/netns.hpp"
#include "support/tls_material.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <fstream>
#include <functional>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

runtime::HostStatus noStatus() { return {}; }

struct Curl {
    int exit = -1;
    int code = 0;  // HTTP status (0: none)
    std::string body, headers;
};

// curl against `url` with `args`; the HTTP status from -w, the headers from -D.
Curl curl(const std::string& url, std::vector<std::string> args, const std::filesystem::path& dir) {
    const auto headers = dir / "headers.txt";
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "10", "-D", headers.string(), "-w", "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(url);
    auto r = runUnchecked(argv);
    Curl c;
    c.exit = r.status;
    const auto nl = r.out.rfind('\n');
    c.body = nl == std::string::npos ? "" : r.out.substr(0, nl);
    c.code = std::atoi(r.out.substr(nl == std::string::npos ? 0 : nl + 1).c_str());
    std::ifstream in(headers);
    c.headers.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return c;
}

std::shared_ptr<const service::WebSettings> webSettings(const std::filesystem::path& file, const std::string& yaml) {
    std::ofstream(file) << yaml;
    return service::loadWebSettings(file, false);
}

std::string errorOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("TLS and basic auth from a web config: the right login gets the metrics, a wrong one 401, plain HTTP 400",
          "[unit]") {
    TempDir dir;
    const TlsMaterial tls = makeTlsMaterial(dir.path());
    const auto web = dir.path() / "web.yml";
    const std::string hash = bcryptHash("s3cret");
    auto settings = webSettings(web, "# the exporter toolkit's format\ntls_server_config:\n  cert_file: server.crt\n"
                                     "  key_file: server.key\nbasic_auth_users:\n  prometheus: " + hash + "\n");
    CHECK(settings->describe() == "TLS (client certificates: NoClientCert), basic auth (1 user(s))");
    service::MetricsExporter exporter(service::MetricsOptions{"127.0.0.1:0", 64, settings}, noStatus);
    const std::string url = exporter.url();
    CHECK_THAT(url, StartsWith("https://127.0.0.1:"));
    const std::string ca = tls.caCert.string();

    auto ok = curl(url, {"--cacert", ca, "-u", "prometheus:s3cret"}, dir.path());
    INFO(ok.body);
    CHECK(ok.exit == 0);
    CHECK(ok.code == 200);
    CHECK_THAT(ok.body, Contains("fizzhost_build_info{version=\"" FIZZHOST_VERSION "\"} 1"));
    CHECK(curl(url, {"--cacert", ca, "-u", "prometheus:s3cret"}, dir.path()).code == 200);  // again: the login is known now

    for (const auto& [login, what] : std::vector<std::pair<std::string, std::string>>{
             {"prometheus:wrong", "a wrong password"}, {"nobody:s3cret", "an unknown user"}, {"", "no login"}}) {
        INFO(what);
        auto c = curl(url, login.empty() ? std::vector<std::string>{"--cacert", ca} : std::vector<std::string>{"--cacert", ca, "-u", login},
                      dir.path());
        CHECK(c.code == 401);
        CHECK_THAT(c.headers, Contains("WWW-Authenticate: Basic realm=\"fizzhost\""));
        CHECK_FALSE(c.body.find("fizzhost_build_info") != std::string::npos);
    }
    // Plain HTTP on the TLS port: told so, in plain HTTP, and nothing else.
    const std::string plain = "http://" + url.substr(std::string("https://").size());
    auto p = curl(plain, {"-u", "prometheus:s3cret"}, dir.path());
    CHECK(p.code == 400);
    CHECK_THAT(p.body, Contains("Client sent an HTTP request to an HTTPS server."));
    // An unknown CA: the client refuses the server; nothing was served.
    CHECK(curl(url, {"-u", "prometheus:s3cret"}, dir.path()).exit != 0);

    // A reload with other users: the old login is refused from now on, the new one admitted.
    exporter.setWebSettings(webSettings(web, "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                                             "basic_auth_users:\n  scraper: " + bcryptHash("other") + "\n"));
    CHECK(curl(url, {"--cacert", ca, "-u", "prometheus:s3cret"}, dir.path()).code == 401);
    CHECK(curl(url, {"--cacert", ca, "-u", "scraper:other"}, dir.path()).code == 200);
}

TEST_CASE("RequireAndVerifyClientCert admits a client certificate signed by client_ca_file and nothing else", "[unit]") {
    TempDir dir;
    const TlsMaterial tls = makeTlsMaterial(dir.path());
    auto settings = webSettings(dir.path() / "web.yml",
                                "tls_server_config:\n  cert_file: " + tls.serverCert.string() + "\n  key_file: " +
                                    tls.serverKey.string() + "\n  client_auth_type: RequireAndVerifyClientCert\n"
                                    "  client_ca_file: ca.crt\n  min_version: TLS13\n");
    service::MetricsExporter exporter(service::MetricsOptions{"127.0.0.1:0", 64, settings}, noStatus);
    const std::string ca = tls.caCert.string();
    auto with = curl(exporter.url(), {"--cacert", ca, "--cert", tls.clientCert.string(), "--key", tls.clientKey.string()}, dir.path());
    CHECK(with.code == 200);
    CHECK(curl(exporter.url(), {"--cacert", ca}, dir.path()).code == 0);  // the handshake fails: no HTTP at all
    // A client certificate signed by another CA.
    TempDir other;
    const TlsMaterial stranger = makeTlsMaterial(other.path());
    CHECK(curl(exporter.url(), {"--cacert", ca, "--cert", stranger.clientCert.string(), "--key", stranger.clientKey.string()},
               dir.path())
              .code == 0);
    // TLS 1.2 is below min_version.
    CHECK(curl(exporter.url(), {"--cacert", ca, "--tls-max", "1.2", "--cert", tls.clientCert.string(), "--key", tls.clientKey.string()},
               dir.path())
              .code == 0);
}

TEST_CASE("wrong passwords are checked off the loop: a scraper whose login is known is answered before them",
          "[unit]") {
    TempDir dir;
    const std::string hash = bcryptHash("right", 10);  // tens of ms per check, on purpose
    auto settings = webSettings(dir.path() / "web.yml", "basic_auth_users:\n  prometheus: " + hash + "\n");
    service::MetricsExporter exporter(service::MetricsOptions{"127.0.0.1:0", 64, settings}, noStatus);
    const int port = exporter.port();
    auto request = [&](const std::string& password) {
        UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(uint16_t(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        const std::string login = "prometheus:" + password;
        static const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string b64;
        for (size_t i = 0; i < login.size(); i += 3) {
            uint32_t v = uint32_t(uint8_t(login[i])) << 16;
            if (i + 1 < login.size()) v |= uint32_t(uint8_t(login[i + 1])) << 8;
            if (i + 2 < login.size()) v |= uint8_t(login[i + 2]);
            b64 += kB64[(v >> 18) & 63];
            b64 += kB64[(v >> 12) & 63];
            b64 += i + 1 < login.size() ? kB64[(v >> 6) & 63] : '=';
            b64 += i + 2 < login.size() ? kB64[v & 63] : '=';
        }
        const std::string req = "GET /metrics HTTP/1.1\r\nAuthorization: Basic " + b64 + "\r\n\r\n";
        REQUIRE(::send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) == ssize_t(req.size()));
        return fd;
    };
    auto statusOf = [](int fd) {
        pollfd p{fd, POLLIN, 0};
        REQUIRE(::poll(&p, 1, 20000) == 1);
        char buf[64] = {};
        REQUIRE(::recv(fd, buf, sizeof buf - 1, MSG_PEEK) >= 12);
        return std::atoi(buf + 9);
    };
    {
        UniqueFd first = request("right");  // the one bcrypt check the scraper pays
        CHECK(statusOf(first.get()) == 200);
    }
    std::vector<UniqueFd> wrong;
    for (int i = 0; i < 8; ++i) wrong.push_back(request("wrong" + std::to_string(i)));
    UniqueFd known = request("right");
    CHECK(statusOf(known.get()) == 200);
    // Answered while the wrong ones still wait for their checks, one after another.
    pollfd last{wrong.back().get(), POLLIN, 0};
    CHECK(::poll(&last, 1, 0) == 0);
    for (auto& fd : wrong) CHECK(statusOf(fd.get()) == 401);
}

TEST_CASE("a web config fizzhost cannot honour exactly is refused with file:line:col and the key", "[unit]") {
    const std::filesystem::path f = "/etc/fizzhost/web.yml";
    auto parseError = [&](const std::string& yaml) { return errorOf([&] { service::parseWebConfig(yaml, f); }); };
    CHECK(service::parseWebConfig("", f).users.empty());
    CHECK_FALSE(service::parseWebConfig("# nothing\n", f).tls);
    const std::string hash = "$2y$10$" + std::string(53, 'a');
    const auto cfg = service::parseWebConfig("basic_auth_users:\n  alice: \"" + hash + "\"\ntls_server_config:\n"
                                             "  cert_file: c.crt\n  key_file: /k/c.key\n  max_version: TLS13\n", f);
    CHECK(cfg.users.at("alice") == hash);
    REQUIRE(cfg.tls);
    CHECK(cfg.tls->certFile == "/etc/fizzhost/c.crt");
    CHECK(cfg.tls->keyFile == "/k/c.key");

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"http_server_config:\n  http2: false\n",
         "web.yml:1:1: http_server_config: 'http_server_config' is not supported by fizzhost"},
        {"tls_server_config:\n  cert_file: a\n", "web.yml:2:3: tls_server_config: needs both cert_file and key_file"},
        {"tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [x]\n",
         "web.yml:4:3: tls_server_config.cipher_suites: 'cipher_suites' is not supported"},
        {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Sometimes\n",
         "web.yml:4:21: tls_server_config.client_auth_type: expected one of NoClientCert"},
        {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n",
         "needs client_ca_file"},
        {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: ca\n",
         "client_ca_file is given but client_auth_type NoClientCert verifies no client certificate"},
        {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n",
         "web.yml:4:16: tls_server_config.min_version: expected TLS10, TLS11, TLS12 or TLS13"},
        {"basic_auth_users:\n  alice: plaintext\n", "web.yml:2:10: basic_auth_users.alice: not a bcrypt hash"},
        {"basic_auth_users:\n  alice: " + hash + "\n  alice: " + hash + "\n", "web.yml:3:3: basic_auth_users.alice: given twice"},
        {"basic_auth_users: [alice]\n", "web.yml:1:19: basic_auth_users: expected a mapping, got a list"},
        {"tls_server_config: [\n", "web.yml:2:1: not YAML"},
        {"a: 1\n---\nb: 2\n", "web.yml:3: a second YAML document"},
    };
    for (const auto& [yaml, says] : bad) {
        INFO(yaml);
        CHECK_THAT(parseError(yaml), Contains(says));
    }

    // The shipped example parses, and its hash is of the password it says.
    {
        std::ifstream in(std::filesystem::path(FIZZHOST_SOURCE_DIR) / "config" / "web.example.yml");
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto example = service::parseWebConfig(text, "web.example.yml");
        CHECK(example.tls);
        REQUIRE(example.users.count("prometheus"));
        CHECK(service::bcryptMatches(example.users.at("prometheus"), "change-me"));
        CHECK_FALSE(service::bcryptMatches(example.users.at("prometheus"), "change-me!"));
    }

    // What the files hold is checked at load, with the key's place.
    TempDir dir;
    const TlsMaterial tls = makeTlsMaterial(dir.path());
    const auto web = dir.path() / "web.yml";
    CHECK_THAT(errorOf([&] { webSettings(web, "tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n"); }),
               Contains(web.string() + ":2:14: tls_server_config.cert_file: '" + (dir.path() / "missing.crt").string() +
                        "': cannot load the certificate"));
    CHECK_THAT(errorOf([&] { webSettings(web, "tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n"); }),
               Contains(web.string() + ":3:13: tls_server_config.key_file: '" + tls.clientKey.string() +
                        "': does not belong to the certificate"));
}
