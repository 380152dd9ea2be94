// /metrics answers HTTP as the RFC says (keep-alive, pipelining, HEAD, 404, 405, 400, 431, bounded
// keep-alive), and request heads are parsed strictly and in bounds. Kernel-free.
#include "service/http_request.hpp"
#include "service/http_server.hpp"
#include "service/metrics_exporter.hpp"
#include "support/http_client.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("/metrics answers HTTP as the RFC says: keep-alive, HEAD, 404, 405, 400, 431, and closes slow writers",
          "[unit]") {
    size_t scrapes = 0;
    service::MetricsExporter exporter("127.0.0.1:0", [&] {
        ++scrapes;
        return someStatus();
    });
    const int port = exporter.port();
    CHECK_THAT(exporter.url(), StartsWith("http://127.0.0.1:"));

    UniqueFd c = connectTo(port);
    sendAll(c.get(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 0; i < 2; ++i) {  // pipelined, on one connection
        auto r = readResponse(c.get());
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK_THAT(r->head, Contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"));
        CHECK_FALSE(r->closed);
    }
    CHECK(scrapes == 2);
    sendAll(c.get(), "HEAD /metrics HTTP/1.1\r\n\r\n");
    auto head = readResponse(c.get(), std::chrono::seconds(10), true);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK_THAT(head->head, Contains("Content-Length: "));
    sendAll(c.get(), "GET /other HTTP/1.1\r\n\r\n");
    CHECK(readResponse(c.get())->status == 404);
    sendAll(c.get(), "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    auto post = readResponse(c.get());
    REQUIRE(post);
    CHECK(post->status == 405);
    CHECK_THAT(post->head, Contains("Allow: GET, HEAD"));

    struct Bad {
        std::string request;
        int status;
    };
    for (const auto& [request, status] : std::vector<Bad>{
             {"garbage\r\n\r\n", 400},
             {"GET /metrics HTTP/2.0\r\n\r\n", 400},
             {"GET /metrics HTTP/1.1\r\n folded: line\r\n\r\n", 400},
             {"GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'x') + "\r\n\r\n", 431},
             {std::string(9000, 'G'), 431},
         }) {
        INFO(request.substr(0, 40));
        UniqueFd b = connectTo(port);
        ::send(b.get(), request.data(), request.size(), MSG_NOSIGNAL);
        auto r = readResponse(b.get());
        REQUIRE(r);
        CHECK(r->status == status);
        CHECK(r->closed);
        CHECK(closedByServer(b.get(), std::chrono::seconds(5)));
    }

    // HTTP/1.0 without keep-alive: one answer, then closed.
    UniqueFd old = connectTo(port);
    sendAll(old.get(), "GET /metrics HTTP/1.0\r\n\r\n");
    auto r10 = readResponse(old.get());
    REQUIRE(r10);
    CHECK(r10->closed);
    CHECK(closedByServer(old.get(), std::chrono::seconds(5)));

    // Keep-alive is bounded: the 100th answer on one connection closes it.
    UniqueFd many = connectTo(port);
    std::string hundred;
    for (unsigned i = 0; i < service::kMaxRequestsPerConnection; ++i) hundred += "HEAD /metrics HTTP/1.1\r\n\r\n";
    sendAll(many.get(), hundred);
    for (unsigned i = 0; i < service::kMaxRequestsPerConnection; ++i) {
        auto r = readResponse(many.get(), std::chrono::seconds(10), true);
        REQUIRE(r);
        CHECK(r->closed == (i + 1 == service::kMaxRequestsPerConnection));
    }
}

TEST_CASE("request heads are parsed strictly and in bounds", "[unit]") {
    using service::HeadStatus;
    using service::parseRequestHead;
    auto ok = parseRequestHead("GET /metrics?a=b HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dTpw\r\n\r\nNEXT");
    REQUIRE(ok.status == HeadStatus::Complete);
    CHECK(ok.request.method == "GET");
    CHECK(ok.request.path == "/metrics");
    CHECK(ok.request.keepAlive);
    CHECK(ok.consumed == std::string("GET /metrics?a=b HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dTpw\r\n\r\n").size());
    CHECK(service::basicCredentials(*ok.request.authorization) == std::pair<std::string, std::string>{"u", "p"});
    CHECK(parseRequestHead("GET /metrics HTTP/1.1\nHost: x\n\n").status == HeadStatus::Complete);  // bare LF
    CHECK(parseRequestHead("GET http://h:9/metrics HTTP/1.1\r\n\r\n").request.path == "/metrics");
    CHECK_FALSE(parseRequestHead("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").request.keepAlive);
    CHECK(parseRequestHead("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").request.keepAlive);
    CHECK_FALSE(parseRequestHead("GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\n").request.keepAlive);
    CHECK(parseRequestHead("GET /metrics HTTP/1.1\r\nHost: x\r\n").status == HeadStatus::Incomplete);
    CHECK(parseRequestHead(std::string(service::kMaxRequestHead, 'a')).status == HeadStatus::TooLarge);
    for (const char* bad : {"GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 x\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
                            "GET metrics HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
                            "GET / HTTP/1.1\r\nX : y\r\n\r\n", "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                            "GET / HTTP/1.1\r\nX: a\x01\r\n\r\n"}) {
        INFO(bad);
        CHECK(parseRequestHead(bad).status == HeadStatus::Bad);
    }
    CHECK_FALSE(service::basicCredentials("Bearer abc"));
    CHECK_FALSE(service::basicCredentials("Basic !!!"));
    CHECK_FALSE(service::basicCredentials("Basic dXNlcg=="));  // "user": no colon
}
