// The control socket's reload requests without a kernel: a real socket, a real ControlServer and a
// thread standing in for the daemon's main loop. The client waits for a reload that began after
// its request; a host that stops, hangs or does not take reloads gives the matching outcome.
#include "cli/status_text.hpp"
#include "service/control_request.hpp"
#include "service/control_server.hpp"
#include "service/reload_record.hpp"
#include "service/reload_requests.hpp"
#include "support/daemon_process.hpp"
#include "util/error.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <cstring>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;
using Outcome = service::ReloadAnswer::Outcome;

namespace {

// The daemon's main loop in miniature: waits for requests and answers each batch with `outcome`.
class MainLoop {
public:
    MainLoop(service::ReloadRequests& requests, std::function<service::ReloadRecord()> outcome)
        : requests_(requests), outcome_(std::move(outcome)), thread_([this] { run(); }) {}
    ~MainLoop() {
        stop_ = true;
        thread_.join();
    }
    size_t reloads() const { return reloads_; }

private:
    void run() {
        while (!stop_) {
            pollfd p{requests_.fd(), POLLIN, 0};
            if (::poll(&p, 1, 20) != 1) continue;
            if (!requests_.take()) continue;
            ++reloads_;
            requests_.finish(outcome_());
        }
    }
    service::ReloadRequests& requests_;
    std::function<service::ReloadRecord()> outcome_;
    std::atomic<bool> stop_{false};
    std::atomic<size_t> reloads_{0};
    std::thread thread_;
};

// A status that says which server answered.
runtime::HostStatus hostNumbered(int n) {
    runtime::HostStatus s;
    s.stateRoot = "host " + std::to_string(n);
    return s;
}

service::ReloadRecord record(bool ok, std::string reason = "") {
    service::ReloadRecord r{std::chrono::system_clock::now(), service::ReloadTrigger::Control, ok, std::move(reason),
                            std::chrono::milliseconds(12)};
    return r;
}

// A raw client: sends `line` and reads the answer to the end.
std::string exchange(const std::filesystem::path& path, const std::string& line) {
    UniqueFd fd = service::connectControl(path);
    REQUIRE(fd);
    if (!line.empty()) service::sendAll(fd.get(), line);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) text.append(buf, size_t(n));
    return text;
}

}  // namespace

TEST_CASE("control reload: the client gets the reload's outcome once it finished; status still answers", "[unit]") {
    TempDir dir;
    const auto path = dir.path() / "c.sock";
    service::ReloadRequests requests;
    std::atomic<bool> accept{true};
    service::ControlServer server(path, [] { return hostNumbered(1); }, &requests);
    MainLoop loop(requests, [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a reload takes time
        return accept ? record(true) : record(false, "interface 'eth0': unknown plugin 'nope'");
    });

    const auto t0 = std::chrono::steady_clock::now();
    auto live = service::requestReload(path, std::chrono::seconds(10));
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(100));  // waited for the reload
    CHECK(live.outcome == Outcome::Live);
    CHECK(live.record.ok);
    CHECK(live.record.trigger == "control");
    CHECK(live.record.durationMs == 12.0);
    CHECK(live.record.reason.empty());

    accept = false;
    auto refused = service::requestReload(path, std::chrono::seconds(10));
    CHECK(refused.outcome == Outcome::Refused);
    CHECK_FALSE(refused.record.ok);
    CHECK(refused.message == "interface 'eth0': unknown plugin 'nope'");
    CHECK_THAT(cli::describeReload(refused.record), Contains("by control: refused after 12.0 ms: interface"));
    CHECK(loop.reloads() == 2);

    // Status: asked for, or (as before requests existed) by a client that only reads.
    CHECK(service::queryStatus(path)["state_root"] == "host 1");
    CHECK(nlohmann::json::parse(exchange(path, ""))["state_root"] == "host 1");
    // Anything else is answered with an error naming it, and the server keeps serving.
    CHECK_THAT(exchange(path, "{\"request\":\"detach\"}\n"), Contains("unknown control request 'detach'"));
    CHECK_THAT(exchange(path, "hello\n"), Contains("unreadable control request 'hello'"));
    CHECK(service::queryStatus(path)["state_root"] == "host 1");
}

TEST_CASE("control reload: no host, a stale socket, a hung host, a host without reloads, a host that stops",
          "[unit]") {
    TempDir dir;
    const auto path = dir.path() / "c.sock";
    SECTION("nothing at the path") {
        auto a = service::requestReload(path, std::chrono::seconds(2));
        CHECK(a.outcome == Outcome::NoHost);
        CHECK_THAT(a.message, Contains("No such file or directory") && Contains("no fizzhost answers there"));
    }
    SECTION("a stale socket") {
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, path.c_str());
        REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        auto a = service::requestReload(path, std::chrono::seconds(2));
        CHECK(a.outcome == Outcome::NoHost);
        CHECK_THAT(a.message, Contains("Connection refused"));
    }
    SECTION("a host that accepts but never answers") {
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, path.c_str());
        REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(fd.get(), 4) == 0);
        const auto t0 = std::chrono::steady_clock::now();
        auto a = service::requestReload(path, std::chrono::milliseconds(300));
        CHECK(a.outcome == Outcome::Timeout);
        CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(300));
        CHECK_THAT(a.message, Contains("no answer within 0.3 s"));
    }
    SECTION("a server that takes no reload requests") {
        service::ControlServer server(path, [] { return hostNumbered(1); });
        auto a = service::requestReload(path, std::chrono::seconds(2));
        CHECK(a.outcome == Outcome::NoHost);
        CHECK_THAT(a.message, Contains("takes no reload requests"));
    }
    SECTION("the host stops while the request waits for its main loop") {
        service::ReloadRequests requests;  // nobody runs reloads: the main loop is busy stopping
        std::optional<service::ControlServer> server;
        server.emplace(path, [] { return hostNumbered(1); }, &requests);
        std::thread stopper([&] {
            // Once the request waits for the main loop (its fd turns readable), the host stops.
            waitUntil([&] {
                pollfd p{requests.fd(), POLLIN, 0};
                return ::poll(&p, 1, 0) == 1;
            });
            server.reset();  // closes the requests, joins its thread
        });
        auto a = service::requestReload(path, std::chrono::seconds(10));
        stopper.join();
        CHECK(a.outcome == Outcome::NoHost);
        CHECK_THAT(a.message, Contains("closed the connection without an answer"));
    }
}

TEST_CASE("reload requests: a requester is answered by a reload that began after its request", "[unit]") {
    service::ReloadRequests requests;
    CHECK_FALSE(requests.take());  // nothing asked

    std::optional<service::ReloadRecord> got;
    std::atomic<bool> answered{false};
    std::thread client([&] {
        got = requests.request();
        answered = true;
    });
    pollfd p{requests.fd(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    // A reload that was already running when the request came (the main thread had not taken it)
    // does not answer it.
    requests.finish(record(false, "an earlier reload"));
    CHECK(holdsFor([&] { return !answered; }, std::chrono::milliseconds(50)));
    REQUIRE(requests.take());
    requests.finish(record(true));
    client.join();
    REQUIRE(got);
    CHECK(got->ok);

    // Closed: waiting and later requests hear nothing.
    std::thread late([&] { got = requests.request(); });
    REQUIRE(::poll(&p, 1, 5000) == 1);
    requests.close();
    late.join();
    CHECK_FALSE(got);
    CHECK_FALSE(requests.request());
}
