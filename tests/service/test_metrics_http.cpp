// /metrics as a client sees it, on 127.0.0.1: no client can silence it (half a request held, 500
// idle connections), and every connection has deadlines. Kernel-free; the shared helpers are in
// support/http_client.hpp.
#include "service/metrics_exporter.hpp"
#include "support/http_client.hpp"
#include "support/daemon_process.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace fizzhost;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

using namespace fizzhost::test;

TEST_CASE("a client holding half a request, or 500 idle connections, never keep a scrape from being answered",
          "[unit]") {
    service::MetricsExporter exporter("127.0.0.1:0", someStatus);
    const int port = exporter.port();

    // Half a request, held: civetweb's one worker waited ~30 s on it, and every scrape behind it.
    UniqueFd half = connectTo(port);
    sendAll(half.get(), "GET /metrics HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 5; ++i) {
        const auto t0 = Clock::now();
        auto r = scrape(port);
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK_THAT(r->body, Contains("fizzhost_packets_total{interface=\"eth0\""));
        if (i == 0) {
            // Answered while the half request was still held open, not after it was given up.
            CHECK_FALSE(closedByServer(half.get(), std::chrono::milliseconds(0)));
            std::cout << "scrape beside a held half request: "
                      << std::chrono::duration<double, std::milli>(Clock::now() - t0).count() << " ms" << std::endl;
        }
    }
    // The request deadline closes it, saying why.
    std::string said;
    CHECK(closedByServer(half.get(), std::chrono::seconds(10), &said));
    CHECK_THAT(said, StartsWith("HTTP/1.1 408 Request Timeout\r\n"));

    // 500 connections held open without a word: at most max_connections (64) stay, the oldest make
    // room for newer ones, and a scrape is answered every time.
    std::vector<UniqueFd> idle;
    for (int i = 0; i < 500; ++i) idle.push_back(connectTo(port));
    for (int i = 0; i < 10; ++i) {
        auto r = scrape(port);
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    size_t closed = 0;
    for (const auto& fd : idle) closed += closedByServer(fd.get(), std::chrono::milliseconds(0));
    INFO(closed << " of 500 idle connections closed by the server");
    CHECK(closed >= 500 - 64);
    // Held open again and again, they never take the place of the scrape (the newest connection).
    for (auto& fd : idle) fd = connectTo(port);
    auto r = scrape(port);
    REQUIRE(r);
    CHECK(r->status == 200);
}

TEST_CASE("an idle connection is closed at the request deadline, and an idle keep-alive one too", "[unit]") {
    service::MetricsExporter exporter("127.0.0.1:0", someStatus);
    UniqueFd silent = connectTo(exporter.port());
    std::string said;
    CHECK(closedByServer(silent.get(), std::chrono::seconds(10), &said));
    CHECK(said.empty());  // it asked nothing: no answer, only the close
    UniqueFd kept = connectTo(exporter.port());
    sendAll(kept.get(), "GET /metrics HTTP/1.1\r\n\r\n");
    REQUIRE(readResponse(kept.get()));
    CHECK(closedByServer(kept.get(), std::chrono::seconds(10)));
}

